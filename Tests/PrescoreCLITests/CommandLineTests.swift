import Foundation
import Testing

/// Every command has help that reads well, and the version is printed.
@Suite struct CommandLineTests {
    @Test(arguments: [
        ["--help"], ["check", "--help"], ["migrate", "--help"], ["jobs", "--help"],
        ["jobs", "validate", "--help"],
        ["jobs", "list", "--help"], ["model", "predict", "--help"], ["demo", "seed", "--help"],
        ["run", "--help"], ["runs", "--help"], ["get", "--help"], ["rollback", "--help"],
        ["cron", "next", "--help"], ["serve", "--help"],
    ])
    func everyCommandHasHelp(arguments: [String]) throws {
        let result = try PrescoreProcess.run(arguments)
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("USAGE: prescore"))
        #expect(result.standardOutput.contains("OVERVIEW:"))
    }

    @Test func cronNextPrintsFireTimesWithTheirOffset() throws {
        let result = try PrescoreProcess.run([
            "cron", "next", "30 2 * * *", "--timezone", "Europe/Berlin", "--from",
            "2027-03-27T12:00:00+01:00",
            "--count", "2",
        ])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput == "2027-03-28T03:00:00+02:00\n2027-03-29T02:30:00+02:00\n")
        let local = try PrescoreProcess.run([
            "cron", "next", "@daily", "--timezone", "America/New_York", "--from", "2027-11-07T00:00",
            "--count", "1",
        ])
        #expect(local.standardOutput == "2027-11-08T00:00:00-05:00\n")
    }

    @Test func cronNextRefusesAnInvalidExpression() throws {
        let result = try PrescoreProcess.run(["cron", "next", "5 24 * * *"])
        #expect(result.status != 0)
        #expect(result.standardOutput.isEmpty)
        #expect(result.standardError.contains("hour field '24'"))
    }

    @Test(arguments: [
        (["--idle-timeout", "soon"], "--idle-timeout must be a duration"),
        (["--idle-timeout", "0s"], "--idle-timeout must be a duration"),
        (["--event-loop-threads", "0"], "--event-loop-threads must be 1 to 256"),
    ])
    func serveRefusesBadOptions(arguments: [String], expected: String) throws {
        let result = try PrescoreProcess.run(["serve"] + arguments)
        #expect(result.status != 0)
        #expect(result.standardError.contains(expected), "\(result.standardError)")
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
