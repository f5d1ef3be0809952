import Foundation
import Testing

/// `prescore report lift --units` as a process, on the SciPy-checked data of the Core tests.
@Suite struct ReportLiftTests {
    struct Case: Decodable {
        var name: String
        var control: [Double]
        var treatment: [Double]
        var covariate_control: [Double]?
        var covariate_treatment: [Double]?
    }

    struct Reference: Decodable { var cases: [Case] }

    func write(_ folder: TemporaryFolder, _ extra: [String] = []) throws -> String {
        let url = PrescoreProcess.repositoryRoot.appendingPathComponent(
            "Tests/PrescoreCoreTests/Fixtures/lift/lift_reference.json")
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        let item = try #require(reference.cases.first { $0.name == "cuped" })
        var lines = ["unit,arm,revenue,pre_revenue"]
        for (index, (value, pre)) in zip(item.control, item.covariate_control!).enumerated() {
            lines.append("c\(index),batch,\(value),\(pre)")
        }
        for (index, (value, pre)) in zip(item.treatment, item.covariate_treatment!).enumerated() {
            lines.append("t\(index),realtime,\(value),\(pre)")
        }
        try folder.write("units.csv", (lines + extra).joined(separator: "\n") + "\n")
        return folder.url.appendingPathComponent("units.csv").path
    }

    @Test func printsTheContractJSONWithCupedAndLeavesOutUnitsInBothArms() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = try write(folder, ["c0,realtime,1,1"])  // c0 in both arms: left out
        let result = try PrescoreProcess.run([
            "report", "lift", "--units", file, "--split", "batch=50,realtime=50", "--format", "json",
        ])
        #expect(result.status == 0, "\(result.standardError)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect(object["control"] as? String == "batch")
        let arms = try #require(object["arms"] as? [[String: Any]])
        #expect(arms.map { $0["units"] as? Int } == [299, 300])
        let metric = try #require((object["metrics"] as? [[String: Any]])?.first)
        #expect(metric["metric"] as? String == "revenue")
        #expect(metric["kind"] as? String == "continuous")
        #expect((metric["cuped"] as? [String: Any])?["theta"] != nil)
        #expect(metric["p_value_holm"] as? Double == metric["p_value"] as? Double)
    }

    @Test func flagsASampleRatioMismatchAndRefusesBadCells() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = try write(folder)
        let table = try PrescoreProcess.run([
            "report", "lift", "--units", file, "--split", "batch=90,realtime=10",
        ])
        #expect(table.status == 0)
        #expect(table.standardOutput.contains("MISMATCH"))
        try folder.write("bad.csv", "unit,arm,revenue\nu1,batch,1\nu2,realtime,0x10\n")
        let bad = try PrescoreProcess.run([
            "report", "lift", "--units", folder.url.appendingPathComponent("bad.csv").path, "--split",
            "batch=50,realtime=50",
        ])
        #expect(bad.status == 1)
        #expect(bad.standardError.contains("bad.csv:3: column revenue is not a decimal number"))
        #expect(!bad.standardError.contains("0x10"))
    }
}
