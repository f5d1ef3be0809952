import Foundation
import PrescorePostgres
import PrescoreTestSupport
import Testing

/// `prescore jobs validate` and `jobs list` against the real PostgreSQL, each test in a database of
/// its own with a small table to prepare queries against.
@Suite struct JobsValidateTests {
    static let table = """
        CREATE TABLE accounts (id bigint PRIMARY KEY, name text, a double precision, b integer, c numeric);
        """

    static func goodJob(name: String = "scorecard", extra: String = "") -> String {
        """
        name: \(name)
        schedule: "*/30 * * * *"
        model:
          kind: logistic
          version: v1
          intercept: -1
          weights: {a: 0.5, b: -0.25, c: 1}
        source:
          query: SELECT id AS key, a, b, c FROM accounts
        realtime:
          query: SELECT id AS key, a, b, c FROM accounts WHERE id = $1
        \(extra)
        """
    }

    func validate(_ files: [String: String]) throws -> PrescoreProcess {
        try TestServers.withTemporaryDatabase { url in
            try PostgresConnection(url: url).execute(Self.table)
            let folder = try TemporaryFolder()
            defer { folder.remove() }
            for (name, text) in files { try folder.write(name, text) }
            return try PrescoreProcess.run([
                "jobs", "validate", "--jobs-dir", folder.url.path, "--database-url", url,
            ])
        }
    }

    @Test func aGoodJobPasses() throws {
        let result = try validate(["scorecard.yaml": Self.goodJob()])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("scorecard (logistic v1, 3 features by name)"))
        #expect(result.standardOutput.contains("1 job(s) valid"))
    }

    @Test func theRepositorysJobsAreValidAgainstTheDemoData() throws {
        try TestServers.withTemporaryDatabase { url in
            let seed = try PrescoreProcess.run(["demo", "seed", "--entities", "500", "--database-url", url])
            #expect(seed.status == 0, "\(seed.standardError)")
            let result = try PrescoreProcess.run(["jobs", "validate", "--database-url", url])
            #expect(result.status == 0, "\(result.standardError)")
            #expect(
                result.standardOutput.contains("fraud_risk (xgboost-json 2026-11-01, 16 features by name)"))
        }
    }

    @Test(arguments: [
        // A query column the model does not use, and a feature the query lacks.
        (
            goodJob().replacingOccurrences(
                of: "SELECT id AS key, a, b, c FROM accounts\n",
                with: "SELECT id AS key, a, b, name FROM accounts\n"),
            "job.yaml:9:10 (source.query): features must be numeric"
        ),
        (
            goodJob().replacingOccurrences(
                of: "SELECT id AS key, a, b, c FROM accounts\n",
                with: "SELECT id AS key, a, b FROM accounts\n"),
            "job.yaml:9:10 (source.query): the model needs c, which the source lacks"
        ),
        (
            goodJob().replacingOccurrences(
                of: "SELECT id AS key, a, b, c FROM accounts\n", with: "SELECT id, a, b, c FROM accounts\n"),
            "(source.query): the query has no column named key"
        ),
        (
            goodJob().replacingOccurrences(of: "FROM accounts\n", with: "FROM no_such_table\n"),
            "(source.query): PostgreSQL refuses the query: relation \"no_such_table\" does not exist (SQLSTATE 42P01)"
        ),
        (
            goodJob().replacingOccurrences(of: "WHERE id = $1", with: "WHERE id > 0"),
            "job.yaml:11:10 (realtime.query): the query takes 0 parameters; it must take one, $1, the key"
        ),
        (goodJob(extra: "owner: data-team"), "job.yaml:12:1 (owner): unknown key 'owner'"),
        (
            goodJob().replacingOccurrences(
                of: "kind: logistic", with: "kind: xgboost-json\n  path: missing.json"
            )
            .replacingOccurrences(of: "  intercept: -1\n  weights: {a: 0.5, b: -0.25, c: 1}\n", with: ""),
            "(model.path): model file"
        ),
    ])
    func problemsNameFileLineAndField(job: String, expected: String) throws {
        let result = try validate(["job.yaml": job])
        #expect(result.status == 1)
        #expect(result.standardError.contains(expected), "\(result.standardError)")
    }

    @Test func duplicateNamesAndBrokenFilesAreAllReported() throws {
        let result = try validate([
            "a.yaml": Self.goodJob(name: "same"),
            "b.yaml": Self.goodJob(name: "same"),
            "c.yaml": "name: [broken\n",
        ])
        #expect(result.status == 1)
        #expect(result.standardError.contains("b.yaml:1:7 (name): job name 'same' is also defined by"))
        #expect(result.standardError.contains("neither file is used"))
        #expect(result.standardError.contains("c.yaml:"))
        #expect(!result.standardOutput.contains("ok    "))
    }

    @Test func listShowsEachJobAndWarnsAboutBadFiles() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("good.yaml", Self.goodJob())
        try folder.write("bad.yaml", "name: bad\n")
        let result = try PrescoreProcess.run(["jobs", "list", "--jobs-dir", folder.url.path])
        #expect(result.status == 0)
        let lines = result.standardOutput.split(separator: "\n")
        #expect(lines.first?.hasPrefix("JOB") == true)
        #expect(lines.count == 2)
        #expect(lines[1].hasPrefix("scorecard  */30 * * * *  UTC"))
        #expect(result.standardError.contains("bad.yaml has problems"))
    }

    @Test func aMissingJobsFolderIsNamed() throws {
        let result = try PrescoreProcess.run(["jobs", "list", "--jobs-dir", "/nonexistent/jobs"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("jobs folder /nonexistent/jobs does not exist"))
    }
}
