import Foundation
import PrescorePostgres
import PrescoreTestSupport
import Testing

/// Every class of hostile input, as a user's process meets it: a clear error naming the file,
/// line or field, exit 1 (or 64 for a flag), and nothing destroyed. None may trap (exit 132/133).
@Suite struct HostileInputTests {
    static let model =
        "model: {kind: logistic, intercept: 0, link: identity, version: t1, weights: {a: 1, b: 10}}"

    func predict(_ csv: String, output: String? = nil, in folder: TemporaryFolder) throws -> PrescoreProcess {
        try folder.write("model.yaml", Self.model)
        try folder.write("rows.csv", csv)
        return try PrescoreProcess.run(
            ["model", "predict", "--model", folder.path("model.yaml"), "--input", folder.path("rows.csv")]
                + (output.map { ["--output", $0] } ?? []))
    }

    @Test(arguments: [
        ("output: {ttl: 99999999999999999999d}", "out of range"),
        ("output: {keep_runs: 99999999999999999999}", "expected a whole number"),
        ("retries: {max: 1, backoff: 1e400s}", "invalid duration"),
    ])
    func numbersOutOfRangeInAJobFileAreErrors(extra: String, expected: String) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("bad.yaml", JobsValidateTests.goodJob(name: "bad", extra: extra))
        for command in [["jobs", "validate"], ["jobs", "list"], ["run", "bad"]] {
            let result = try PrescoreProcess.run(command + ["--jobs-dir", folder.url.path])
            #expect(result.status == 1 || (command == ["jobs", "list"] && result.status == 0), "\(command)")
            #expect(result.standardError.contains("bad.yaml"), "\(command): \(result.standardError)")
            if command == ["jobs", "validate"] {
                #expect(result.standardError.contains(expected), "\(result.standardError)")
            }
        }
    }

    @Test func numbersOutOfRangeInFlagsAndSchedulesAreErrors() throws {
        let lease = try PrescoreProcess.run(["scheduler", "--lease", "99999999999999d"])
        #expect(lease.status == 64, "\(lease.standardError)")
        #expect(lease.standardError.contains("out of range"))
        let every = try PrescoreProcess.run(["cron", "next", "@every 99999999999999999999d"])
        #expect(every.status == 1, "\(every.standardError)")
        #expect(every.standardError.contains("out of range"))
        let count = try PrescoreProcess.run(["cron", "next", "@daily", "--count", "99999999999"])
        #expect(count.status == 64)
    }

    @Test func anOutputDirectoryOrLinkIsNeverReplaced() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let directory = folder.url.appendingPathComponent("precious")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "keep me".write(
            to: directory.appendingPathComponent("file.txt"), atomically: true, encoding: .utf8)
        let result = try predict("key,a,b\n1,2,3\n", output: directory.path, in: folder)
        #expect(result.status == 1)
        #expect(result.standardError.contains("is a directory"))
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("file.txt").path))
        let link = folder.path("link.csv")
        try FileManager.default.createSymbolicLink(
            atPath: link, withDestinationPath: folder.path("model.yaml"))
        #expect(try predict("key,a,b\n1,2,3\n", output: link, in: folder).status == 1)
        #expect(try String(contentsOfFile: folder.path("model.yaml"), encoding: .utf8) == Self.model)
        // A bad row halfway leaves an existing output as it was, and no temporary file behind.
        try folder.write("out.csv", "old")
        #expect(
            try predict("key,a,b\n1,2,3\n2,x,3\n", output: folder.path("out.csv"), in: folder).status == 1)
        #expect(try String(contentsOfFile: folder.path("out.csv"), encoding: .utf8) == "old")
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.url.path)
        #expect(!left.contains { $0.hasSuffix(".partial") }, "\(left)")
        #expect(try predict("key,a,b\n1,2,3\n", output: folder.path("out.csv"), in: folder).status == 0)
        #expect(try String(contentsOfFile: folder.path("out.csv"), encoding: .utf8) == "key,score\n1,32.0\n")
    }

    @Test func endlessOrBinaryInputFailsFast() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let binary = try predict("key,a,b\n1,2,\u{0}3\n", in: folder)
        #expect(binary.status == 1)
        #expect(binary.standardError.contains("NUL byte"), "\(binary.standardError)")
        let long = try predict("key,a,b\n1,2," + String(repeating: "9", count: 2 << 20) + "\n", in: folder)
        #expect(long.status == 1)
        #expect(long.standardError.contains("without a line break"), "\(long.standardError)")
    }

    @Test(arguments: ["0x1p3", "1e400", "1e39", "inf", "-Infinity", "1.2.3", "1e", "+"])
    func onlyDecimalNumbersAreValues(cell: String) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let result = try predict("key,a,b\n1,2,3\n2,\(cell),3\n", in: folder)
        #expect(result.status == 1, "\(cell)")
        #expect(result.standardError.contains("rows.csv:3, column 2 (a)"), "\(result.standardError)")
        #expect(!result.standardError.contains(cell) || cell.count < 3, "the cell is not echoed")
    }

    @Test func emptyAndNaNAreMissingValues() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let result = try predict("key,a,b\n1,,1\n2,NaN,1\n3,nan,1e-1\n", in: folder)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput == "key,score\n1,10.0\n2,10.0\n3,1.0\n")
    }

    @Test func aFileWithoutTheHeaderNamesTheMissingColumnsOnly() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let result = try predict("4111111111111111,0.5,0.25\n", in: folder)
        #expect(result.status == 1)
        #expect(result.standardError.contains("missing columns a, b"), "\(result.standardError)")
        #expect(!result.standardError.contains("4111111111111111"))
    }

    @Test func aTrailingSemicolonIsTheSameForValidateAndRun() throws {
        try BatchRunFixture.with(
            source: "SELECT g AS key, g::float8 AS x, 0 AS pause FROM generate_series(1, 10) g;"
        ) { fixture in
            let validate = try PrescoreProcess.run(
                fixture.arguments("jobs", ["validate"]).removingOption("--redis-url"))
            #expect(validate.status == 0, "\(validate.standardError)")
            let run = try fixture.run()
            #expect(run.status == 0, "\(run.standardError)")
        }
    }

    @Test func aJobNameInTwoFilesFailsEveryCommand() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("a.yaml", JobsValidateTests.goodJob(name: "same"))
        try folder.write("b.yaml", JobsValidateTests.goodJob(name: "same"))
        for command in [["run", "same"], ["trigger", "same"], ["get", "same", "1"]] {
            let result = try PrescoreProcess.run(command + ["--jobs-dir", folder.url.path])
            #expect(result.status == 1, "\(command)")
            #expect(result.standardError.contains("also defined by"), "\(command): \(result.standardError)")
        }
    }

    @Test(arguments: [
        ["--redis-url", "redis:/admin:hunter2@cache.internal"],
        ["--redis-url", "redis://admin:hunter2@cache.internal:99999999"],
        ["--redis-url", "redis://admin:hunter2@[broken/0"],
        ["--database-url", "postgresql://admin:hunter2@db.internal:99999999/x"],
        ["--database-url", "postgresql://admin:hunter2@[broken/x"],
    ])
    func secretsInURLsThatDoNotParseAreNeverShown(flag: [String]) throws {
        let result = try PrescoreProcess.run(["check", "--jobs-dir", "/nonexistent"].prefix(1) + flag)
        #expect(result.status == 1)
        #expect(!result.standardError.contains("hunter2"), "\(result.standardError)")
        #expect(!result.standardOutput.contains("hunter2"), "\(result.standardOutput)")
    }
}
