import Foundation
import PrescoreBatch
import PrescoreCore
import PrescoreJobs
import PrescoreRedis
import PrescoreScheduler
import PrescoreTestSupport
import Synchronization
import Testing

@testable import PrescoreCLI

/// The run protocol where runs overlap, roll back and outlive their TTL, through real `prescore`
/// processes on the real servers (README "Schedule semantics", docs/storage.md).
@Suite struct RunProtocolTests {
    func ttl(_ fixture: BatchRunFixture, _ key: String) throws -> Int? {
        try fixture.redis.command("TTL", key).integer.map(Int.init)
    }

    /// `ttl: 2s`: the published run's scores are still served well past it, and none of its keys
    /// carries an expiry; only runs that never publish do.
    @Test func publishedScoresDoNotExpire() throws {
        try BatchRunFixture.with(output: "keep_runs: 2, ttl: 2s") { fixture in
            #expect(try fixture.run().status == 0)
            let run = try #require(try fixture.store.published())
            usleep(3_000_000)
            #expect(try fixture.score(1000)?.score == 1, "served 3 s after a publish with ttl 2s")
            for bucket in 0..<run.buckets {
                #expect(
                    try ttl(fixture, fixture.store.layout.bucketKey(run: run.runID, bucket: bucket)) == -1)
            }
            #expect(try ttl(fixture, fixture.store.layout.runKey(run.runID)) == -1)
            let get = try PrescoreProcess.run([
                "get", fixture.job, "500", "--jobs-dir", fixture.folder.url.path, "--redis-url",
                fixture.redisURL,
            ])
            #expect(get.status == 0, "\(get.standardError)")
        }
    }

    /// A slow run started first is older than the two runs that publish while it writes: their
    /// clean-up must not sweep its keys (PostgreSQL records it running). It then ends refused,
    /// removing its own keys, so nothing is left behind but the kept runs. The slow run writes as it
    /// goes (`--hold-limit 0`), as a run too large to hold its scores for `RESTORE` does.
    @Test func aRunStillWritingIsNotSweptByNewerPublishes() throws {
        try BatchRunFixture.with { fixture in
            try fixture.setSource(rows: 1_000, pauseAt: 600, pauseSeconds: 4)
            let slow = try fixture.start(["--batch-size", "100", "--hold-limit", "0"])
            try fixture.waitForPause()
            let slowRun = try #require(
                try fixture.database.execute(
                    "SELECT run_id FROM prescore.job_runs WHERE job = $1 AND status = 'running'",
                    [fixture.job]
                ).scalar.flatMap { Int64($0) })
            var written = 0
            for _ in 0..<100 where written < 2 {  // the writer follows the reader by a batch or two
                written = try fixture.keys(ofRun: slowRun).count
                if written < 2 { usleep(20_000) }
            }
            #expect(written > 1, "the slow run has written buckets")
            try fixture.setSource(rows: 1_000)
            #expect(try fixture.run().status == 0)
            #expect(try fixture.run().status == 0)
            #expect(try fixture.keys(ofRun: slowRun).count > 1, "not swept while it writes")

            let result = slow.finish()
            #expect(result.status == 1, "\(result.standardError)")
            #expect(result.standardError.contains("superseded"))
            #expect(try fixture.keys(ofRun: slowRun).isEmpty)
            let kept = try fixture.store.keptRuns()
            #expect(kept.count == 2)
            for runID in kept { #expect(try fixture.keys(ofRun: runID).count > 1) }
        }
    }

    /// 1,000 rows that the planner estimates at about 333,000 (a filter on a subquery): the first
    /// run can only follow the estimate, the next sizes its buckets from the last run's rows.
    @Test func anInflatedEstimateSizesNoBucketsOnceARunIsKnown() throws {
        let source = """
            SELECT g AS key, g::float8 / 1000 AS x, 0 AS pause
            FROM generate_series(1, 1000000) AS g WHERE g <= (SELECT n FROM ctl)
            """
        try BatchRunFixture.with(source: source) { fixture in
            #expect(try fixture.run().status == 0)
            #expect(try fixture.store.published()?.buckets ?? 0 > 1_000, "the first run follows the estimate")
            #expect(try fixture.run().status == 0)
            let run = try #require(try fixture.store.published())
            #expect(run.rows == 1_000)
            #expect(
                run.buckets == ScoreLayout.bucketCount(expectedRows: 8_000), "8 scores a bucket, not one")
            #expect(try fixture.score(777)?.score == 0.777)
        }
    }

    /// 250 queued runs of a job no scheduler knows (deleted from the folder), all older than the
    /// job's own run: the claim looks at the scheduler's own jobs, so the job's run still starts.
    @Test func queuedRunsOfAnUnknownJobStarveNoOther() throws {
        try BatchRunFixture.with { fixture in
            try fixture.database.execute(
                """
                INSERT INTO prescore.job_runs (job, run_id, trigger, started_at, status)
                SELECT 'deleted_job', nextval('prescore.run_ids'), 'manual', to_timestamp(0), 'queued'
                FROM generate_series(1, 250)
                """)
            #expect(try PrescoreProcess.run(fixture.arguments("trigger", [fixture.job])).status == 0)
            let scheduler = try fixture.scheduler(ManualClock(Date()))
            scheduler.tick()
            #expect(scheduler.activeRunIDs.count == 1)
            scheduler.waitForAttempts()
            #expect(try fixture.scheduledRuns().map(\.status) == ["succeeded"])
        }
    }

    /// A scheduled run with a slow source is refused because a manual run started later and
    /// published first: it ends `superseded`, is not retried (a retry would take a newer token and
    /// replace the manual run's scores), and leaves no keys.
    @Test func aRunRefusedByANewerPublishIsSupersededAndNotRetried() throws {
        try BatchRunFixture.with(schedule: "0 * * * *", extra: "retries: {max: 2, backoff: 1s}") { fixture in
            try fixture.setSource(rows: 1_000, pauseAt: 500, pauseSeconds: 3)
            let (clock, scheduler) = try fixture.schedulerAtFirstSlot()
            try fixture.waitForPause()
            try fixture.setSource(rows: 1_000)
            #expect(try fixture.run().status == 0)
            let manual = try #require(try fixture.store.published()).runID
            scheduler.waitForAttempts()
            let scheduled = try #require(try fixture.scheduledRuns().first { $0.trigger == "schedule" })
            #expect(scheduled.status == "superseded", "\(scheduled)")
            #expect(scheduled.attempts == 1)
            #expect(try fixture.attempts(of: scheduled.runID).map(\.status) == ["superseded"])
            clock.advance(by: 10)
            scheduler.tick()
            #expect(scheduler.activeRunIDs.isEmpty, "not retried")
            #expect(try fixture.store.published()?.runID == manual)
            #expect(try fixture.keys(ofRun: scheduled.runID).isEmpty)
        }
    }

    /// `concurrency: replace`, two instances on one clock: the second to tick finds the slot
    /// recorded and decides nothing; the slot's own run, claimed by the first, goes on.
    @Test func replaceWithTwoSchedulersNeverCancelsTheSlotsOwnRun() throws {
        try BatchRunFixture.with(schedule: "0 * * * *", extra: "concurrency: replace") { fixture in
            try fixture.setSource(rows: 1_000, pauseAt: 500, pauseSeconds: 1)
            let clock = ManualClock(hours(0.9))
            let a = try fixture.scheduler(clock, instance: "a")
            let b = try fixture.scheduler(clock, instance: "b")
            a.tick()
            b.tick()
            clock.set(hours(1))
            a.tick()
            #expect(a.activeRunIDs.count == 1)
            clock.set(hours(1) + 0.3)
            b.tick()
            a.waitForAttempts()
            let runs = try fixture.scheduledRuns()
            #expect(runs.map(\.status) == ["succeeded"], "\(runs)")
            #expect(
                try fixture.database.execute(
                    "SELECT count(*) FROM prescore.job_runs WHERE cancel_requested IS NOT NULL"
                ).scalar == "0")
        }
    }

    /// Under `forbid`, a slot that comes due while the job's run waits to be taken over (its
    /// scheduler died, the lease ran out) is skipped: the takeover and the slot never run side by
    /// side, and the reason names the open run.
    @Test func forbidHoldsDuringATakeover() throws {
        try BatchRunFixture.with(schedule: "0 * * * *") { fixture in
            // Slot 01:00 claimed by an instance that died at once: its 30 s lease ran out long ago.
            let dead = try #require(
                try fixture.database.execute(
                    """
                    WITH run AS (
                        INSERT INTO prescore.job_runs (job, run_id, trigger, scheduled_for, started_at, status,
                            attempts, lease_token, lease_owner, lease_holder, lease_expires_at)
                        SELECT $1, id, 'schedule', to_timestamp($2), to_timestamp($2), 'running', 1, id, 'dead',
                               'scheduler', to_timestamp($2 + 30)
                        FROM (SELECT nextval('prescore.run_ids') AS id) AS s
                        RETURNING run_id, started_at
                    )
                    INSERT INTO prescore.job_run_attempts (job, run_id, attempt, token, instance, started_at, status)
                    SELECT $1, run_id, 1, run_id, 'dead', started_at, 'running' FROM run RETURNING run_id
                    """, [fixture.job, String(hours(1).timeIntervalSince1970)]
                ).scalar.flatMap { Int64($0) })
            let clock = ManualClock(hours(2) + 10)
            let scheduler = try fixture.scheduler(clock, instance: "b")
            scheduler.tick()
            #expect(scheduler.activeRunIDs == [dead], "only the takeover runs")
            scheduler.waitForAttempts()
            let runs = try fixture.scheduledRuns()
            #expect(runs.map(\.status) == ["succeeded", "skipped"], "\(runs)")
            #expect(runs.last?.error == "run \(dead) of the job was still open (concurrency: forbid)")
            #expect(try fixture.attempts(of: dead).map(\.status) == ["abandoned", "succeeded"])
        }
    }

    /// A scheduled attempt raises its run's fence before it even reaches PostgreSQL: here
    /// PostgreSQL never answers (a frozen proxy), yet the fence already holds the attempt's token,
    /// so no older attempt of the run can publish meanwhile.
    @Test func anAttemptRaisesItsFenceBeforeAnythingElse() throws {
        try BatchRunFixture.with { fixture in
            let target = try #require(URLComponents(string: fixture.databaseURL))
            let proxy = PausableTCPProxy(targetPort: try #require(target.port))
            defer { proxy.stop() }
            proxy.pause()
            var frozen = target
            frozen.port = proxy.port
            frozen.queryItems = [URLQueryItem(name: "connect_timeout", value: "3")]
            let job = try #require(JobLoad.read(directory: fixture.folder.url.path).jobs.first)
            let batch = BatchRun(
                job: job.definition, definitionText: job.text, scorer: job.scorer,
                databaseURL: try #require(frozen.string), redisURL: try RedisURL(fixture.redisURL),
                options: BatchRun.Options(mode: .attempt(BatchRun.Attempt(runID: 41, token: 43))))
            let outcome = Mutex<String?>(nil)
            let done = BlockingExecutor.shared.execute("test-attempt") {
                do {
                    _ = try batch.run(cancellation: CancellationFlag(), progress: { _ in }, log: { _ in })
                    outcome.withLock { $0 = "ran" }
                } catch {
                    outcome.withLock { $0 = "\(error)" }
                }
            }
            let fence = fixture.store.layout.fenceKey(41)
            var raised: String?
            for _ in 0..<100 where raised == nil {
                raised = try fixture.redis.command("GET", fence).string
                if raised == nil { usleep(20_000) }
            }
            #expect(raised == "43")
            #expect(outcome.withLock { $0 } == nil, "PostgreSQL has not answered yet")
            done.wait()
            #expect(outcome.withLock { $0 }?.contains("timeout") == true, "\(outcome.withLock { $0 } ?? "")")
        }
    }

    /// A clock that moves a second at every reading, as a slow tick does.
    final class SteppingClock: SchedulerClock {
        private let time: Mutex<Date>
        init(_ start: Date) { time = Mutex(start) }
        func now() -> Date {
            time.withLock {
                $0 = $0.addingTimeInterval(1)
                return $0
            }
        }
    }

    /// A claim's lease counts from the claim, not from the tick's start: a tick that took long
    /// (here every clock reading costs a second) hands out whole leases.
    @Test func leasesCountFromTheClaimNotTheTicksStart() throws {
        try BatchRunFixture.with { fixture in
            #expect(try PrescoreProcess.run(fixture.arguments("trigger", [fixture.job])).status == 0)
            let start = Date()
            let stepping = try fixture.scheduler(SteppingClock(start), instance: "slow")
            stepping.tick()
            let runID = try #require(stepping.activeRunIDs.first)
            let expires = try #require(
                try fixture.database.execute(
                    "SELECT extract(epoch FROM lease_expires_at)::float8 FROM prescore.job_runs WHERE run_id = $1",
                    [String(runID)]
                ).scalar.flatMap { Double($0) })
            let tickStart = start.addingTimeInterval(1).timeIntervalSince1970
            #expect(expires > tickStart + 30 + 0.5, "stamped later than the tick's first reading")
            stepping.waitForAttempts()
        }
    }

    /// The job-file hash a run records (computed by PostgreSQL) is the loaded job's own.
    @Test func theRecordedDefinitionHashIsTheLoadedJobs() throws {
        try BatchRunFixture.with { fixture in
            #expect(try fixture.run().status == 0)
            let job = try #require(JobLoad.read(directory: fixture.folder.url.path).jobs.first)
            let recorded = try fixture.database.execute(
                "SELECT definition_hash FROM prescore.job_runs WHERE job = $1", [fixture.job]
            ).scalar
            #expect(recorded == job.hash)
        }
    }
}
