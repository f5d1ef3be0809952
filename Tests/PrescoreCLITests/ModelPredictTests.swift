import Foundation
import Testing

@Suite struct ModelPredictTests {
    static let fixtures = PrescoreProcess.repositoryRoot.appendingPathComponent(
        "Tests/PrescoreCoreTests/Fixtures")

    @Test func scoresTheParityFixtureAsXGBoostDoes() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let output = folder.path("scores.csv")
        let result = try PrescoreProcess.run([
            "model", "predict", "--model", "jobs/models/fraud_risk.json",
            "--input", Self.fixtures.appendingPathComponent("fraud_risk_parity_input.csv").path, "--output",
            output,
        ])
        #expect(result.status == 0, "\(result.standardError)")
        let ours = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
        let theirs = try String(
            contentsOf: Self.fixtures.appendingPathComponent("fraud_risk_parity_expected.csv"),
            encoding: .utf8
        ).split(separator: "\n")
        #expect(ours.first == "key,score")
        #expect(ours.count == theirs.count)
        for (mine, reference) in zip(ours.dropFirst(), theirs.dropFirst()) {
            let a = mine.split(separator: ",")
            let b = reference.split(separator: ",")
            #expect(a[0] == b[0], "rows in input order")
            // Shortest round-trip text: reading it back gives exactly XGBoost's float.
            #expect(Float(String(a[1])) == Float(String(b[1])), "key \(a[0]): \(a[1]) vs \(b[1])")
        }
    }

    @Test func writesToStandardOutputAndBindsColumnsByName() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write(
            "model.yaml",
            """
            model: {kind: logistic, intercept: 0, link: identity, version: t1, weights: {a: 1, b: 10}}
            """)
        // Columns in another order than the weights, a quoted key with a comma, and a missing value.
        try folder.write("rows.csv", "id,b,a\n1,2,3\n\"x,y\",,0.5\n")
        let result = try PrescoreProcess.run(
            ["model", "predict", "--model", folder.path("model.yaml"), "--input", folder.path("rows.csv")])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput == "key,score\n1,23.0\n\"x,y\",0.5\n")
    }

    @Test(arguments: [
        ("key,a\n1,2\n", "missing columns b; the first line must be a header"),
        ("key,a,b,c\n1,2,3,4\n", "1 columns that are not features of the model"),
        ("key,a,b\n1,2,3\n2,abc,3\n", ":3, column 2 (a): not a decimal number"),
        ("key,a,b\n1,2,3\n2,3\n", ":3: 2 fields, but the header has 3"),
        ("", "the file is empty"),
    ])
    func badInputNamesTheLineAndColumn(input: String, expected: String) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write(
            "model.yaml", "model: {kind: logistic, intercept: 0, version: t, weights: {a: 1, b: 1}}")
        try folder.write("rows.csv", input)
        let output = folder.path("out.csv")
        let result = try PrescoreProcess.run(
            [
                "model", "predict", "--model", folder.path("model.yaml"), "--input", folder.path("rows.csv"),
                "--output", output,
            ])
        #expect(result.status != 0)
        #expect(result.standardError.contains(expected), "\(result.standardError)")
        #expect(!result.standardError.contains("abc"), "cell values are not echoed")
        #expect(!FileManager.default.fileExists(atPath: output), "no partial output is left behind")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder.url.path).sorted() == [
                "model.yaml", "rows.csv",
            ])
    }

    @Test func anUnsupportedModelIsRefusedWithItsFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write(
            "m.json",
            #"{"version":[3,2,0],"learner":{"learner_model_param":{"base_score":"0.5","num_feature":"1"},"objective":{"name":"rank:pairwise"},"gradient_booster":{"name":"gbtree"}}}"#
        )
        try folder.write("rows.csv", "key,x\n1,2\n")
        let result = try PrescoreProcess.run(
            ["model", "predict", "--model", folder.path("m.json"), "--input", folder.path("rows.csv")])
        #expect(result.status != 0)
        #expect(result.standardError.contains("m.json"))
        #expect(result.standardError.contains("objective 'rank:pairwise' is not supported"))
    }
}
