import Foundation
import PrescoreHTTPClient
import PrescorePostgres
import PrescoreTestSupport
import Testing

/// Two `prescore scheduler` processes on one PostgreSQL, real time, `@every 2s`: one is killed with
/// SIGKILL while it holds a run and is restarted. Every slot must run exactly once, none lost.
@Suite struct SchedulerProcessTests {
    /// A scheduler process whose output goes to a file (a pipe nobody reads would fill and block it).
    struct Daemon {
        let process = Process()

        let log: URL

        /// `databaseURL` replaces the fixture's (a proxy in front of the same server).
        init(_ fixture: BatchRunFixture, instance: String, more: [String] = [], databaseURL: String? = nil)
            throws
        {
            log = fixture.folder.url.appendingPathComponent("\(instance).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.executableURL = PrescoreProcess.executable
            var arguments = fixture.arguments(
                "scheduler", ["--instance", instance, "--lease", "3s", "--grace", "20s"] + more)
            if let databaseURL, let index = arguments.firstIndex(of: "--database-url") {
                arguments[index + 1] = databaseURL
            }
            process.arguments = arguments
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
        }

        var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

        func stop(_ signal: Int32) -> Int32 {
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    @Test func everySlotRunsOnceWhenOneOfTwoSchedulersIsKilled() throws {
        try BatchRunFixture.with(schedule: "@every 2s", extra: "concurrency: allow") { fixture in
            try fixture.setSource(rows: 1_000, pauseAt: 10, pauseSeconds: 1)
            let a = try Daemon(fixture, instance: "a")
            let b = try Daemon(fixture, instance: "b")
            let runningOnA = """
                SELECT run_id FROM prescore.job_run_attempts WHERE instance = 'a' AND status = 'running' LIMIT 1
                """
            var killedRun: Int64?
            #expect(
                try poll(seconds: 20) {
                    killedRun = try fixture.database.execute(runningOnA).scalar.flatMap { Int64($0) }
                    return killedRun != nil
                })
            #expect(a.stop(SIGKILL) == SIGKILL)
            let killed = try #require(killedRun)
            usleep(1_000_000)
            let restarted = try Daemon(fixture, instance: "a-restarted")

            // The killed run is taken over once its 3 s lease runs out; then two more slots.
            #expect(
                try poll(seconds: 30) {
                    let runs = try fixture.scheduledRuns()
                    guard let index = runs.firstIndex(where: { $0.runID == killed }) else { return false }
                    return runs[index].status == "succeeded"
                        && runs[(index + 1)...].filter { $0.status == "succeeded" }.count >= 2
                })
            let stoppedAt = Date()
            #expect(restarted.stop(SIGTERM) == 0)
            #expect(b.stop(SIGTERM) == 0)

            let runs = try fixture.scheduledRuns()
            let slots = runs.compactMap(\.scheduledFor)
            #expect(slots.count == runs.count)
            #expect(slots.count >= 3)
            // No slot lost: consecutive slots are 2 s apart from the first to the last.
            #expect(zip(slots, slots.dropFirst()).allSatisfy { $1 - $0 == 2 }, "\(slots)")
            for run in runs where run.scheduledFor! < stoppedAt.timeIntervalSince1970 - 1 {
                #expect(run.status == "succeeded", "run \(run.runID): \(run.status) \(run.error ?? "")")
                let attempts = try fixture.attempts(of: run.runID)
                #expect(attempts.filter { $0.status == "succeeded" }.count == 1)
            }
            let takeover = try fixture.attempts(of: killed)
            #expect(takeover.first?.instance == "a")
            #expect(takeover.first?.status == "abandoned")
            #expect(takeover.count >= 2)
            #expect(takeover.last?.status == "succeeded")
        }
    }

    @Test func servesHealthReadinessAndMetricsAndRereadsJobsOnSIGHUP() throws {
        try BatchRunFixture.with(schedule: "@every 1s") { fixture in
            let port = TestServers.closedPort()
            let daemon = try Daemon(
                fixture, instance: "ops", more: ["--http-port", String(port), "--http-host", "127.0.0.1"])
            func get(_ path: String) -> HTTPResponse? {
                try? HTTPClient.send(
                    HTTPRequest(url: "http://127.0.0.1:\(port)\(path)", timeout: .seconds(2)))
            }
            func text(_ response: HTTPResponse?) -> String {
                String(decoding: response?.body ?? [], as: UTF8.self)
            }
            #expect(poll(seconds: 20) { get("/readyz")?.status == 200 })
            #expect(get("/healthz")?.status == 200)
            #expect(
                poll(seconds: 20) {
                    text(get("/metrics")).contains(
                        "prescore_runs_total{job=\"\(fixture.job)\",status=\"succeeded\"}")
                })
            let metrics = text(get("/metrics"))
            #expect(metrics.contains("prescore_run_start_lag_seconds_bucket{job=\"\(fixture.job)\""))
            #expect(metrics.contains("prescore_run_duration_seconds_count{job=\"\(fixture.job)\"}"))
            #expect(metrics.contains("prescore_job_seconds_since_last_success{job=\"\(fixture.job)\"}"))

            // A second job appears; SIGHUP makes the running daemon pick it up.
            let second = fixture.job + "_b"
            let original = try String(
                contentsOf: fixture.folder.url.appendingPathComponent("\(fixture.job).yaml"), encoding: .utf8)
            try fixture.folder.write(
                "\(second).yaml",
                original.replacingOccurrences(of: "name: \(fixture.job)", with: "name: \(second)"))
            kill(daemon.process.processIdentifier, SIGHUP)
            #expect(
                try poll(seconds: 20) {
                    try fixture.database.execute(
                        "SELECT count(*) FROM prescore.job_runs WHERE job = $1 AND status = 'succeeded'",
                        [second]
                    ).scalar.flatMap { Int($0) } ?? 0 > 0
                })
            #expect(daemon.stop(SIGTERM) == 0)
        }
    }

    /// The scheduler's own PostgreSQL backend frozen (SIGSTOP: it neither answers nor runs its
    /// statement_timeout, as behind a stopped proxy): the loop gives the connection up at its
    /// deadline, reports 503 and says why, reconnects, and runs go on.
    @Test func aFrozenPostgresConnectionDoesNotHangTheScheduler() throws {
        try BatchRunFixture.with(schedule: "@every 1s") { fixture in
            let port = TestServers.closedPort()
            let daemon = try Daemon(
                fixture, instance: "frozen", more: ["--http-port", String(port), "--http-host", "127.0.0.1"])
            func readyz() -> Int? {
                try? HTTPClient.send(
                    HTTPRequest(url: "http://127.0.0.1:\(port)/readyz", timeout: .seconds(2))
                )
                .status
            }
            #expect(poll(seconds: 20) { readyz() == 200 })
            let loop = """
                SELECT pid FROM pg_stat_activity
                WHERE datname = current_database() AND application_name = 'prescore scheduler'
                """
            let pid = try #require(try fixture.database.execute(loop).scalar.flatMap { Int32($0) })
            // Frozen between statements: stopped inside the loop's planning transaction, it would
            // hold the job's lock, which no timeout of a stopped process can release, and every
            // connection after it would wait for that lock (a frozen network releases it: the
            // connection's idle_in_transaction_session_timeout).
            #expect(try freezeWhileIdle(pid, fixture.database))
            defer {
                kill(pid, SIGCONT)
                kill(pid, SIGTERM)
            }
            let log = fixture.folder.url.appendingPathComponent("frozen.log")
            #expect(
                poll(seconds: 10) {
                    (try? String(contentsOf: log, encoding: .utf8))?.contains("no answer within 1000 ms")
                        == true
                })
            // A run that finished after the freeze was reported: over a new connection.
            let frozenAt = try #require(try fixture.database.execute("SELECT now()::text").scalar)
            let succeeded = """
                SELECT count(*) FROM prescore.job_runs WHERE job = $1 AND status = 'succeeded'
                  AND finished_at > $2::timestamptz
                """
            #expect(
                try poll(seconds: 20) {
                    try fixture.database.execute(succeeded, [fixture.job, frozenAt]).scalar != "0"
                }, "runs go on over a new connection")
            #expect(readyz() == 200)
            #expect(daemon.stop(SIGTERM) == 0)
        }
    }

    /// Stops the backend `pid` at a moment it waits for its client outside a transaction (its
    /// state, as it last reported it, is `idle`), trying for up to 10 s.
    private func freezeWhileIdle(_ pid: Int32, _ database: PostgresConnection) throws -> Bool {
        let state = "SELECT state FROM pg_stat_activity WHERE pid = $1"
        return try poll(seconds: 10) {
            kill(pid, SIGSTOP)
            if try database.execute(state, [String(pid)]).scalar == "idle" { return true }
            kill(pid, SIGCONT)
            usleep(UInt32.random(in: 1_000...20_000))
            return false
        }
    }

    /// Every connection of the scheduler to PostgreSQL goes through a proxy that then stops moving
    /// bytes (no reset, no error: as a stopped proxy or a black-holed network). While it lasts,
    /// `/readyz` answers 503 and the attempt in flight, whose lease can no longer be renewed, is
    /// cancelled once the lease has lapsed; when the network returns, the run is taken over and
    /// succeeds, the frozen attempt recorded abandoned.
    @Test func aFrozenNetworkToPostgresIsSeenAndTheRunInFlightIsCancelledAtItsLease() throws {
        try BatchRunFixture.with { fixture in
            try fixture.setSource(rows: 1_000, pauseAt: 500, pauseSeconds: 120)
            let target = try #require(URLComponents(string: fixture.databaseURL))
            let proxy = PausableTCPProxy(targetPort: try #require(target.port))
            defer { proxy.stop() }
            var proxied = target
            proxied.port = proxy.port
            #expect(try PrescoreProcess.run(fixture.arguments("trigger", [fixture.job])).status == 0)

            let port = TestServers.closedPort()
            let daemon = try Daemon(
                fixture, instance: "netfreeze",
                more: ["--http-port", String(port), "--http-host", "127.0.0.1"],
                databaseURL: proxied.string)
            func readyz() -> Int? {
                try? HTTPClient.send(
                    HTTPRequest(url: "http://127.0.0.1:\(port)/readyz", timeout: .seconds(2))
                )
                .status
            }
            #expect(poll(seconds: 20) { readyz() == 200 })
            try fixture.waitForPause()
            let runID = try #require(try fixture.scheduledRuns().first?.runID)
            try fixture.setSource(rows: 1_000)  // the next attempt does not pause

            proxy.pause()
            #expect(poll(seconds: 10) { readyz() == 503 }, "readiness drops while PostgreSQL is unreachable")
            let cancelled =
                "run \(runID): cancelling: the lease expired while PostgreSQL could not be reached"
            #expect(poll(seconds: 15) { daemon.output.contains(cancelled) }, "\(daemon.output)")
            #expect(readyz() == 503, "still frozen")
            let runsDuringFreeze = try fixture.scheduledRuns()
            #expect(runsDuringFreeze.first?.status == "running", "nothing could be recorded meanwhile")

            proxy.resume()
            #expect(
                try poll(seconds: 60) { try fixture.recorded(runID).status == "succeeded" },
                "\(daemon.output)")
            let attempts = try fixture.attempts(of: runID)
            #expect(attempts.first?.status == "abandoned", "\(attempts)")
            #expect(attempts.last?.status == "succeeded")
            #expect(poll(seconds: 20) { readyz() == 200 })
            #expect(try fixture.score(1000)?.score == 1)
            #expect(daemon.stop(SIGTERM) == 0)
        }
    }

    /// A run that fails for good under a `prescore scheduler` process alerts its webhook: the
    /// receiver gets the documented JSON; its answer (an error, larger than the 16 KiB read) is
    /// logged as a failed delivery, and no log line shows the URL's secret path.
    @Test func aRunThatFailsForGoodAlertsItsWebhookWithoutLoggingTheSecretPath() throws {
        let secret = "T0001/B0002/s3cr3tT0k3n"
        let hook = LoopbackHTTPServer(status: 500, body: String(repeating: "x", count: 20_000))
        defer { hook.stop() }
        let extra = """
            retries: {max: 0}
            alerts: {webhook_url: "http://127.0.0.1:\(hook.port)/services/\(secret)"}
            """
        try BatchRunFixture.with(extra: extra) { fixture in
            try fixture.setSource(rows: 0)  // min_rows (1) fails the run
            #expect(try PrescoreProcess.run(fixture.arguments("trigger", [fixture.job])).status == 0)
            let daemon = try Daemon(fixture, instance: "alerts")
            #expect(poll(seconds: 30) { daemon.output.contains("alert webhook failed") }, "\(daemon.output)")
            let request = try #require(hook.receivedRequests.first)
            #expect(request.hasPrefix("POST /services/\(secret) "))
            let body = try #require(request.range(of: "\r\n\r\n").map { String(request[$0.upperBound...]) })
            let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            #expect(json["job"] as? String == fixture.job)
            #expect(json["status"] as? String == "failed")
            #expect((json["attempts"] as? NSNumber)?.intValue == 1)
            #expect(json["scheduled_for"] is NSNull)
            #expect((json["error"] as? String)?.contains("min_rows") == true)
            #expect(hook.receivedRequests.count == 1, "a failed delivery is not repeated")
            #expect(daemon.stop(SIGTERM) == 0)
            #expect(!daemon.output.contains("s3cr3t"), "\(daemon.output)")
            #expect(!daemon.output.contains("services/"))
        }
    }

    /// Two `prescore scheduler` processes, `concurrency: replace`, runs of about a second every 2 s:
    /// whichever records a slot decides it; the other never cancels the slot's own run.
    @Test func replaceUnderTwoSchedulerProcessesCancelsNoSlotsOwnRun() throws {
        try BatchRunFixture.with(schedule: "@every 2s", extra: "concurrency: replace") { fixture in
            try fixture.setSource(rows: 1_000, pauseAt: 10, pauseSeconds: 0.8)
            let a = try Daemon(fixture, instance: "a")
            let b = try Daemon(fixture, instance: "b")
            #expect(
                try poll(seconds: 30) {
                    try fixture.scheduledRuns().filter { $0.status == "succeeded" }.count >= 4
                })
            #expect(a.stop(SIGTERM) == 0)
            #expect(b.stop(SIGTERM) == 0)
            let runs = try fixture.scheduledRuns()
            #expect(runs.filter { $0.status == "cancelled" }.isEmpty, "\(runs)")
            #expect(
                try fixture.database.execute(
                    "SELECT count(*) FROM prescore.job_runs WHERE cancel_requested IS NOT NULL"
                ).scalar == "0", "\(a.output)\n\(b.output)")
        }
    }
}
