import Foundation
import PrescoreCore
import PrescoreRedis
import PrescoreScheduler
import PrescoreTestSupport
import Testing

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
    /// removing its own keys, so nothing is left behind but the kept runs.
    @Test func aRunStillWritingIsNotSweptByNewerPublishes() throws {
        try BatchRunFixture.with { fixture in
            try fixture.setSource(rows: 1_000, pauseAt: 600, pauseSeconds: 4)
            let slow = try fixture.start(["--batch-size", "100"])
            try fixture.waitForPause()
            let slowRun = try #require(
                try fixture.database.execute(
                    "SELECT run_id FROM prescore.job_runs WHERE job = $1 AND status = 'running'",
                    [fixture.job]
                ).scalar.flatMap { Int64($0) })
            #expect(try fixture.keys(ofRun: slowRun).count > 1, "the slow run has written buckets")
            try fixture.setSource(rows: 1_000)
            #expect(try fixture.run().status == 0)
            #expect(try fixture.run().status == 0)
            #expect(try fixture.keys(ofRun: slowRun).count > 1, "not swept while it writes")

            let result = slow.finish()
            #expect(result.status == 1, "\(result.standardError)")
            #expect(result.standardError.contains("newer"))
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
            #expect(run.buckets == ScoreLayout.bucketCount(expectedRows: 2_000))
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
}
