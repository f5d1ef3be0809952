import Foundation
import PrescoreTestSupport
import Testing

/// `prescore run`, `runs`, `get` and `rollback` end to end on the real servers. Each test has a
/// database, a job name and a key prefix of its own, so that tests that cut a server away mid-run
/// (by killing only their own connections) disturb no other test.
@Suite struct BatchRunTests {
    @Test func aRunPublishesEveryScoreAndRecordsItself() throws {
        try BatchRunFixture.with { fixture in
            let result = try fixture.run()
            #expect(result.status == 0, "\(result.standardError)")
            #expect(
                result.standardOutput.contains(
                    "run 1 succeeded: 1000 read, 1000 scored, 1000 written, 0 failed"))
            let read = try #require(try fixture.score(500))
            #expect(abs(read.score - 0.5) < 1e-6)
            #expect(read.run == 1)

            let get = try PrescoreProcess.run(
                fixture.arguments("get", [fixture.job, "500"]).filter { !$0.isEmpty }
                    .removingDatabaseURL())
            #expect(get.status == 0, "\(get.standardError)")
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(get.standardOutput.utf8)) as? [String: Any])
            #expect(object["job"] as? String == fixture.job)
            #expect(object["key"] as? String == "500")
            #expect(object["score"] as? Double == 0.5)
            #expect(object["model_version"] as? String == "v7")
            #expect(object["run_id"] as? String == "1")
            #expect((object["computed_at"] as? String)?.hasSuffix("Z") == true)
            #expect(object["age_seconds"] is NSNumber)

            let missing = try PrescoreProcess.run(
                fixture.arguments("get", [fixture.job, "1001"]).removingDatabaseURL())
            #expect(missing.status == 1)
            #expect(missing.standardError.contains("key 1001 has no score in the published run 1"))

            let runs = try PrescoreProcess.run(
                fixture.arguments("runs", [fixture.job, "--format", "json"]).removingRedisAndJobs())
            #expect(runs.status == 0, "\(runs.standardError)")
            let array = try #require(
                try JSONSerialization.jsonObject(with: Data(runs.standardOutput.utf8)) as? [[String: Any]])
            let run = try #require(array.first)
            #expect(run["run_id"] as? String == "1")
            #expect(run["trigger"] as? String == "manual")
            #expect(run["status"] as? String == "succeeded")
            #expect(run["rows_read"] as? Int == 1_000)
            #expect(run["rows_written"] as? Int == 1_000)
            #expect(run["rows_failed"] as? Int == 0)
            #expect(run["error"] is NSNull)
            #expect(run["scheduled_for"] is NSNull)
            #expect(
                (run["started_at"] as? String)?.range(
                    of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"#, options: .regularExpression) != nil)
            let hash = try fixture.database.execute(
                "SELECT definition_hash, model_version FROM prescore.job_runs WHERE job = $1", [fixture.job])
            #expect(hash.rows.first?[0]?.count == 64)
            #expect(hash.rows.first?[1] == "v7")

            let list = try PrescoreProcess.run(
                fixture.arguments("jobs", ["list"]).removingOption("--redis-url"))
            let line = try #require(list.standardOutput.split(separator: "\n").last)
            #expect(line.contains("@daily"), "\(list.standardOutput)")
            #expect(line.contains("T00:00:00+00:00"))  // the next fire time
            #expect(line.contains(run["started_at"] as? String ?? "?"))
            #expect(line.contains("succeeded"))
        }
    }

    @Test func keepRunsAndRollback() throws {
        try BatchRunFixture.with { fixture in
            for rows in [1_000, 1_100, 1_200] {
                try fixture.setSource(rows: rows)
                #expect(try fixture.run().status == 0)
            }
            // keep_runs 2: run 1 is gone, keys and all.
            #expect(try fixture.keys(ofRun: 1).isEmpty)
            #expect(try fixture.score(1_150)?.run == 3)
            let rollback = try PrescoreProcess.run(
                fixture.arguments("rollback", [fixture.job]).removingDatabaseURL())
            #expect(rollback.status == 0, "\(rollback.standardError)")
            #expect(rollback.standardOutput.contains("now serving run 2"))
            #expect(try fixture.score(1_050)?.run == 2)
            #expect(try fixture.score(1_150) == nil)  // run 2 had 1,100 rows
            let refused = try PrescoreProcess.run(
                fixture.arguments("rollback", [fixture.job, "--to", "1"]).removingDatabaseURL())
            #expect(refused.status != 0)
            #expect(refused.standardError.contains("not kept"))
        }
    }

    @Test func guardsKeepThePublishedScores() throws {
        try BatchRunFixture.with { fixture in
            #expect(try fixture.run().status == 0)
            try fixture.setSource(rows: 499)  // less than half of the published 1,000
            let shrunk = try fixture.run()
            #expect(shrunk.status == 1)
            #expect(shrunk.standardError.contains("max_drop_fraction"))
            #expect(try fixture.recorded(2).status == "failed")
            #expect(try fixture.recorded(2).error?.contains("max_drop_fraction") == true)
            #expect(try fixture.keys(ofRun: 2).isEmpty)
            #expect(try fixture.score(10)?.run == 1)
        }
    }

    @Test func rowsThatCannotBeScoredCountAgainstTheBudget() throws {
        // 10 NULL keys and 14 infinite scores (one row has both): 23 of 100 rows fail.
        let source = """
            SELECT CASE WHEN g % 10 = 0 THEN NULL ELSE g END AS key,
                   CASE WHEN g % 7 = 0 THEN 'Infinity'::float8 ELSE g END AS x, 0 AS pause
            FROM generate_series(1, 100) AS g
            """
        try BatchRunFixture.with(source: source) { fixture in
            let over = try fixture.run()
            #expect(over.status == 1)
            #expect(over.standardError.contains("23 of 100 rows could not be scored"))
            #expect(over.standardError.contains("key 7: the score is inf"))
        }
        try BatchRunFixture.with(source: source, extra: "max_failed_fraction: 0.25") { fixture in
            let within = try fixture.run()
            #expect(within.status == 0, "\(within.standardError)")
            #expect(within.standardOutput.contains("100 read, 77 scored, 77 written, 23 failed"))
            #expect(try fixture.score(7) == nil)
            #expect(try fixture.score(8)?.score == 8)
        }
    }

    @Test func aKeyThatAppearsTwiceKeepsItsLastScore() throws {
        let source = """
            SELECT key, x, 0 AS pause FROM (VALUES (1, 1.0, 1), (2, 2.0, 2), (1, 3.0, 3)) AS t(key, x, o)
            ORDER BY o
            """
        try BatchRunFixture.with(source: source) { (fixture) throws in
            #expect(try fixture.run(["--batch-size", "2"]).status == 0)
            #expect(try fixture.score(1)?.score == 3)
        }
    }

    /// The writer holds scores across batches (8 a bucket) before writing: a key repeated after a
    /// flush still ends with its last score, and every held score is written at the end.
    @Test func aKeyRepeatedAfterAFlushKeepsItsLastScore() throws {
        let source = """
            SELECT key, x, 0 AS pause FROM (
              SELECT k AS key, k::float8 AS x, k AS o FROM generate_series(1, 19) AS k
              UNION ALL SELECT 1, 50.0, 20
            ) AS t ORDER BY o
            """
        try BatchRunFixture.with(source: source) { (fixture) throws in
            #expect(try fixture.run(["--batch-size", "2"]).status == 0)
            #expect(try fixture.score(1)?.score == 50)
            for key in 2...19 { #expect(try fixture.score(key)?.score == Float(key)) }
        }
    }

    @Test func aDryRunWritesNothing() throws {
        try BatchRunFixture.with { fixture in
            let result = try fixture.run(["--dry-run"])
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput.contains("dry run succeeded: 1000 read, 1000 scored, 0 written"))
            #expect(try fixture.store.published() == nil)
            #expect(try fixture.database.execute("SELECT count(*) FROM prescore.job_runs").scalar == "0")
        }
    }

    // MARK: - Failures mid-run: the published run stays, the partial run is removed and recorded.

    /// Publishes run 1, then starts run 2 that pauses at row 2,500 of 3,000 after writing its first
    /// batches, calls `cut` during the pause, and checks what must hold whatever `cut` did.
    func interruptedRun(
        pauseSeconds: Double, expectStatus: Int32, recorded: String,
        _ cut: (BatchRunFixture, PrescoreProcess.Running) throws -> Void
    ) throws -> PrescoreProcess {
        var outcome: PrescoreProcess?
        try BatchRunFixture.with { fixture in
            #expect(try fixture.run().status == 0)
            try fixture.setSource(rows: 3_000, pauseAt: 2_500, pauseSeconds: pauseSeconds)
            let running = try fixture.start(["--batch-size", "500"])
            try fixture.waitForPause()
            try cut(fixture, running)
            let result = running.finish()
            #expect(result.status == expectStatus, "\(result.standardError)")
            #expect(try fixture.recorded(2).status == recorded)
            #expect(try fixture.keys(ofRun: 2).isEmpty)
            #expect(try fixture.store.published()?.runID == 1)
            #expect(try fixture.score(10)?.run == 1)
            outcome = result
        }
        return try #require(outcome)
    }

    @Test func postgresLostMidRun() throws {
        let result = try interruptedRun(pauseSeconds: 60, expectStatus: 1, recorded: "failed") { fixture, _ in
            try fixture.database.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'"
            )
        }
        #expect(result.standardError.contains("run 2 failed"))
    }

    @Test func sigtermCancelsTheRun() throws {
        let result = try interruptedRun(pauseSeconds: 60, expectStatus: 143, recorded: "cancelled") {
            _, running in
            running.process.terminate()  // SIGTERM
        }
        #expect(result.standardError.contains("cancelled by SIGTERM"))
    }

    @Test func aRunThatRedisCannotHoldIsRefused() throws {
        let server = try RedisServerProcess(arguments: ["--maxmemory", "2mb"])
        defer { server.stop() }
        try BatchRunFixture.with(source: "SELECT id AS key, id / 1000.0 AS x, 0 AS pause FROM big") {
            fixture in
            try fixture.database.execute(
                "CREATE TABLE big AS SELECT g AS id FROM generate_series(1, 200000) AS g; ANALYZE big")
            let result = try PrescoreProcess.run(
                [
                    "run", fixture.job, "--jobs-dir", fixture.folder.url.path, "--database-url",
                    fixture.databaseURL,
                    "--redis-url", server.url,
                ])
            #expect(result.status == 1)
            #expect(result.standardError.contains("Redis cannot hold this run"))
            #expect(try fixture.recorded(1).status == "failed")
        }
    }
}

extension [String] {
    /// Drops `--database-url URL` (commands that read Redis only do not take it).
    func removingDatabaseURL() -> [String] { removingOption("--database-url") }

    func removingRedisAndJobs() -> [String] { removingOption("--redis-url").removingOption("--jobs-dir") }

    func removingOption(_ name: String) -> [String] {
        guard let index = firstIndex(of: name) else { return self }
        var copy = self
        copy.removeSubrange(index...(index + 1))
        return copy
    }
}
