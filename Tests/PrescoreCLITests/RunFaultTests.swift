import Foundation
import PrescoreCore
import PrescoreRedis
import PrescoreTestSupport
import Testing

/// Faults cut from the outside: the real `prescore` executable runs, and its servers are cut at
/// several moments of its work. Each test has a Redis server of its own (so `CLIENT KILL TYPE
/// normal` hits nobody else) and a database of its own; each checks the exit status, what
/// `prescore.job_runs` recorded, what is left in Redis, and that the published scores are served.
///
/// The job reads 3,000 rows in batches of 500 and pauses in PostgreSQL at row `pauseAt`: the
/// moment a fault is cut.
@Suite struct RunFaultTests {
    static let rows = 3_000

    /// Moments of a run: before any score is written (row 1), after the first batches, halfway,
    /// at the last batch, and at the very last row (every batch but one written).
    static let moments = [1, 600, 1_500, 2_600, 3_000]

    /// The rows a run has read when PostgreSQL pauses at `pauseAt`: the whole batches before it,
    /// less one batch that PostgreSQL may still hold in its send buffer.
    static func readBefore(_ pauseAt: Int) -> ClosedRange<Int> {
        let whole = (pauseAt - 1) / 500 * 500
        return max(0, whole - 500)...whole
    }

    /// Publishes run 1 on a Redis of its own, then starts run 2 pausing at `pauseAt` and hands it
    /// to `body` during the pause.
    func withPausedRun(
        pauseAt: Int, pauseSeconds: Double = 1, more: [String] = [],
        _ body: (BatchRunFixture, PrescoreProcess.Running, RedisServerProcess) throws -> Void
    ) throws {
        let server = try RedisServerProcess(arguments: [])
        defer { server.stop() }
        try BatchRunFixture.with(redisURL: server.url) { fixture in
            #expect(try fixture.run().status == 0)
            try fixture.setSource(rows: Self.rows, pauseAt: pauseAt, pauseSeconds: pauseSeconds)
            let running = try fixture.start(["--batch-size", "500"] + more)
            try fixture.waitForPause()
            try body(fixture, running, server)
        }
    }

    /// Run ids that own a key under the fixture's prefix: nothing may remain but the published and
    /// kept runs'.
    func runsWithKeys(_ fixture: BatchRunFixture) throws -> Set<Int64> {
        var runs = Set<Int64>()
        try fixture.redis.scan(matching: "\(fixture.prefix):\(fixture.job):*") { keys in
            for key in keys {
                let parts = key.split(separator: ":")
                if let kind = parts.dropFirst(2).first, kind == "s" || kind == "run", parts.count > 3,
                    let id = Int64(parts[3])
                {
                    runs.insert(id)
                }
            }
        }
        return runs
    }

    func counts(_ fixture: BatchRunFixture, run: Int64) throws -> [Int] {
        let row = try #require(
            try fixture.database.execute(
                "SELECT rows_read, rows_scored, rows_written, rows_failed FROM prescore.job_runs WHERE run_id = $1",
                [String(run)]
            ).rows.first)
        return row.map { Int($0 ?? "") ?? -1 }
    }

    func killRedisClients(_ fixture: BatchRunFixture) throws {
        // SKIPME yes (the default): the test's own connection survives.
        let killed = try fixture.redis.command("CLIENT", "KILL", "TYPE", "normal").integer ?? 0
        #expect(killed >= 1, "no Redis client of the run was connected")
    }

    @Test(arguments: moments)
    func redisConnectionsKilledMidRunAreReconnected(pauseAt: Int) throws {
        try withPausedRun(pauseAt: pauseAt) { fixture, running, _ throws in
            try killRedisClients(fixture)
            let result = running.finish()
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput.contains("run 2 succeeded"))
            #expect(result.standardOutput.contains("reconnected to Redis 1x"), "\(result.standardOutput)")
            #expect(try fixture.recorded(2).status == "succeeded")
            #expect(try counts(fixture, run: 2) == [3_000, 3_000, 3_000, 0])
            #expect(try fixture.score(2_999)?.run == 2)
            #expect(try runsWithKeys(fixture) == [1, 2])
        }
    }

    /// The moment a run sends its whole buckets (`RESTORE`s, after the last row): Redis holds the
    /// commands (`CLIENT PAUSE … WRITE`) while the run's connections are killed. The run reconnects
    /// once and sends the buckets again (`RESTORE … REPLACE` can be repeated).
    @Test func redisConnectionsKilledWhileBucketsAreRestoredAreReconnected() throws {
        try withPausedRun(pauseAt: Self.rows) { fixture, running, _ throws in
            try fixture.redis.command("CLIENT", "PAUSE", "10000", "WRITE")
            var restoring = false
            for _ in 0..<300 where !restoring {
                usleep(20_000)
                restoring =
                    try fixture.redis.command("CLIENT", "LIST").string?.contains("cmd=restore") == true
            }
            #expect(restoring, "the run's RESTOREs never reached Redis")
            try killRedisClients(fixture)
            try fixture.redis.command("CLIENT", "UNPAUSE")
            let result = running.finish()
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput.contains("reconnected to Redis 1x"), "\(result.standardOutput)")
            #expect(try fixture.recorded(2).status == "succeeded")
            #expect(try counts(fixture, run: 2) == [3_000, 3_000, 3_000, 0])
            #expect(try fixture.score(2_999)?.run == 2)
            #expect(try runsWithKeys(fixture) == [1, 2])
        }
    }

    /// Redis gone for good mid-run (the server killed): the reconnects fail, and once the budget
    /// is spent the run fails in bounded time, recorded with how far it got.
    @Test func redisGoneForGoodFailsTheRunWithinTheBudget() throws {
        try withPausedRun(pauseAt: 1_500) { fixture, running, server throws in
            server.stop()
            let result = running.finish()
            #expect(result.status == 1, "\(result.standardError)")
            #expect(result.standardError.contains("at most 3 reconnects"), "\(result.standardError)")
            #expect(result.standardError.contains("expire within"), "\(result.standardError)")
            let recorded = try fixture.recorded(2)
            #expect(recorded.status == "failed")
            // Rows after the pause may be read before the writer gives up.
            #expect((500...3_000).contains(try counts(fixture, run: 2)[0]))
        }
    }

    @Test(arguments: [1, 1_500, 2_600])
    func theSourceBackendTerminatedFailsTheRun(pauseAt: Int) throws {
        try withPausedRun(pauseAt: pauseAt) { fixture, running, _ throws in
            try fixture.database.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'"
            )
            let result = running.finish()
            #expect(result.status == 1, "\(result.standardError)")
            #expect(try fixture.recorded(2).status == "failed")
            let read = try counts(fixture, run: 2)[0]
            #expect(
                Self.readBefore(pauseAt).contains(read), "rows read before the batch that paused: \(read)")
            #expect(try runsWithKeys(fixture) == [1])
            #expect(try fixture.score(10)?.run == 1)
        }
    }

    /// The run's bookkeeping connection (not its snapshot) is survived: the heartbeat reconnects.
    @Test func theBookkeepingBackendTerminatedIsSurvived() throws {
        try withPausedRun(pauseAt: 1_500, more: ["--heartbeat-lease", "3s"]) { fixture, running, _ throws in
            let killed = try fixture.database.execute(
                """
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE datname = current_database() AND application_name = 'prescore run \(fixture.job)'
                  AND wait_event IS DISTINCT FROM 'PgSleep' AND state = 'idle'
                """)
            #expect(killed.scalar != "0")
            let result = running.finish()
            #expect(result.status == 0, "\(result.standardError)")
            #expect(try fixture.recorded(2).status == "succeeded")
            #expect(try counts(fixture, run: 2) == [3_000, 3_000, 3_000, 0])
        }
    }

    @Test(arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143))])
    func aSignalCancelsTheRunWithItsCounts(signal: Int32, status: Int32) throws {
        try withPausedRun(pauseAt: 1_500) { fixture, running, _ throws in
            kill(running.process.processIdentifier, signal)
            let result = running.finish()
            #expect(result.status == status, "\(result.standardError)")
            #expect(try fixture.recorded(2).status == "cancelled")
            let read = try counts(fixture, run: 2)[0]
            // How many rows got through before the cancel reached the reader depends on timing;
            // what must hold is that the record and the summary say the same.
            #expect((0...1_500).contains(read))
            #expect(result.standardError.contains("\(read) read"), "\(result.standardError)")
            #expect(try runsWithKeys(fixture) == [1])
        }
    }

    /// SIGKILL leaves the run `running`; once its heartbeat lease lapses, whatever looks next
    /// records it abandoned (with its process) and removes its keys: `prescore runs` at one
    /// moment, the next run of the job at another.
    @Test(arguments: [(1, "runs"), (2_600, "runs"), (1_500, "run")])
    func aKilledRunIsFoundAbandonedByTheNextLook(pauseAt: Int, looker: String) throws {
        try withPausedRun(pauseAt: pauseAt, pauseSeconds: 10, more: ["--heartbeat-lease", "2s"]) {
            fixture, running, _ throws in
            usleep(1_500_000)  // two heartbeats after the pause began
            kill(running.process.processIdentifier, SIGKILL)
            let killed = running.finish()
            #expect(killed.status == SIGKILL)
            #expect(try fixture.recorded(2).status == "running")
            usleep(2_500_000)  // the lease lapses
            if looker == "runs" {
                let runs = try PrescoreProcess.run(
                    fixture.arguments("runs", [fixture.job, "--format", "json"]).removingOption("--jobs-dir"))
                #expect(runs.status == 0, "\(runs.standardError)")
                #expect(runs.standardError.contains("run 2 abandoned"), "\(runs.standardError)")
                #expect(runs.standardOutput.contains("\"status\":\"abandoned\""), "\(runs.standardOutput)")
            } else {
                try fixture.setSource(rows: Self.rows)
                let next = try fixture.run()
                #expect(next.status == 0, "\(next.standardError)")
                #expect(next.standardError.contains("run 2 abandoned"), "\(next.standardError)")
                #expect(try fixture.score(10)?.run == 3)
            }
            let recorded = try fixture.recorded(2)
            #expect(recorded.status == "abandoned")
            #expect(recorded.error?.contains("prescore run@") == true, "\(recorded.error ?? "")")
            let lastBeat = try counts(fixture, run: 2)[0]
            #expect(Self.readBefore(pauseAt).contains(lastBeat), "the last heartbeat's figures: \(lastBeat)")
            #expect(try !runsWithKeys(fixture).contains(2))
            #expect(
                try fixture.database.execute(
                    "SELECT status FROM prescore.job_run_attempts WHERE run_id = 2"
                ).scalar == "abandoned")
        }
    }

    @Test func aQueuedRunNoSchedulerClaimsSaysSo() throws {
        try BatchRunFixture.with { fixture in
            try fixture.database.execute(
                """
                INSERT INTO prescore.job_runs (job, run_id, trigger, started_at, status)
                VALUES ($1, nextval('prescore.run_ids'), 'manual', now() - interval '5 minutes', 'queued')
                """, [fixture.job])
            let runs = try PrescoreProcess.run(
                fixture.arguments("runs", [fixture.job]).removingOption("--jobs-dir"))
            #expect(runs.status == 0)
            #expect(runs.standardOutput.contains("not claimed: is a prescore scheduler running?"))
            let list = try PrescoreProcess.run(fixture.arguments("jobs", ["list"]))
            #expect(list.standardOutput.contains("queued (queued"), "\(list.standardOutput)")
        }
    }

    /// A scheduler with a run in flight while Redis drops every client: the attempt reconnects
    /// and publishes; the daemon lives on and exits 0 on SIGTERM.
    @Test func aSchedulerRunSurvivesRedisClientsKilled() throws {
        let server = try RedisServerProcess(arguments: [])
        defer { server.stop() }
        try BatchRunFixture.with(redisURL: server.url) { fixture in
            try fixture.setSource(rows: Self.rows, pauseAt: 1_500, pauseSeconds: 1)
            #expect(try PrescoreProcess.run(fixture.arguments("trigger", [fixture.job])).status == 0)
            let daemon = try SchedulerProcessTests.Daemon(fixture, instance: "faults")
            try fixture.waitForPause()
            try killRedisClients(fixture)
            var status: String?
            for _ in 0..<200 where status != "succeeded" && status != "failed" {
                usleep(100_000)
                status = try fixture.database.execute(
                    "SELECT status FROM prescore.job_runs WHERE job = $1", [fixture.job]
                ).scalar
            }
            #expect(status == "succeeded")
            #expect(daemon.process.isRunning)
            #expect(daemon.stop(SIGTERM) == 0)
            #expect(try fixture.store.published() != nil)
            #expect(try runsWithKeys(fixture).count == 1)
        }
    }
}
