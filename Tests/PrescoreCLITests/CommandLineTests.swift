import Foundation
import Testing

/// Every command has help that reads well, and the version is printed.
@Suite struct CommandLineTests {
    @Test(arguments: [
        ["--help"], ["check", "--help"], ["migrate", "--help"], ["jobs", "--help"],
        ["jobs", "validate", "--help"],
        ["jobs", "list", "--help"], ["model", "predict", "--help"], ["demo", "seed", "--help"],
    ])
    func everyCommandHasHelp(arguments: [String]) throws {
        let result = try PrescoreProcess.run(arguments)
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("USAGE: prescore"))
        #expect(result.standardOutput.contains("OVERVIEW:"))
    }

    @Test func printsItsVersion() throws {
        let result = try PrescoreProcess.run(["--version"])
        #expect(result.status == 0)
        #expect(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
    }

    @Test func anUnreachableDatabaseIsOneClearLine() throws {
        let result = try PrescoreProcess.run(
            ["migrate", "--database-url", "postgresql://prescore:hunter2@127.0.0.1:1/prescore"])
        #expect(result.status != 0)
        let lines = result.standardError.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(
            result.standardError.contains(
                "cannot connect to PostgreSQL at postgresql://prescore:***@127.0.0.1:1/prescore"))
        #expect(!result.standardError.contains("hunter2"))
    }

    @Test func theFlagOverridesTheEnvironment() throws {
        let result = try PrescoreProcess.run(
            ["migrate", "--database-url", "postgresql://flag@127.0.0.1:1/x"],
            environment: ["DATABASE_URL": "postgresql://environment@127.0.0.1:2/y"])
        #expect(result.standardError.contains("flag@127.0.0.1:1/x"))
    }
}
