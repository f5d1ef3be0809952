import Foundation
import Logging
import PrescoreRedis
import PrescoreScheduler
import PrescoreTestSupport

@testable import PrescoreCLI

extension BatchRunFixture {
    /// An in-process scheduler on the fixture's database and jobs folder, driven by `clock`.
    func scheduler(
        _ clock: any SchedulerClock, instance: String = "test-a", lease: Duration = .seconds(30),
        grace: Duration = .seconds(60)
    ) throws -> Scheduler {
        var configuration = Scheduler.Configuration(
            jobsDirectory: folder.url.path, databaseURL: databaseURL, redisURL: try RedisURL(redisURL),
            instance: instance)
        configuration.lease = lease
        configuration.grace = grace
        configuration.webhookTimeout = .seconds(2)
        return Scheduler(
            configuration: configuration, clock: clock,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    /// A scheduler that has just started the job's 01:00 slot (its clock at 01:00), having first
    /// looked at 00:54, so that the job's slots count from then on.
    func schedulerAtFirstSlot(grace: Duration = .seconds(60)) throws -> (ManualClock, Scheduler) {
        let clock = ManualClock(hours(0.9))
        let scheduler = try self.scheduler(clock, grace: grace)
        scheduler.tick()
        clock.set(hours(1))
        scheduler.tick()
        return (clock, scheduler)
    }

    /// One row of prescore.job_runs, as the scheduler tests look at it.
    struct ScheduledRunRow: Equatable {
        var runID: Int64
        var trigger: String
        /// Seconds since the epoch, nil for manual runs.
        var scheduledFor: Double?
        var status: String
        var attempts: Int
        var token: Int64?
        var error: String?
    }

    /// The job's runs, oldest slot first.
    func scheduledRuns() throws -> [ScheduledRunRow] {
        try database.execute(
            """
            SELECT run_id, trigger, extract(epoch FROM scheduled_for)::float8, status, attempts, lease_token, error
            FROM prescore.job_runs WHERE job = $1 ORDER BY scheduled_for NULLS LAST, run_id
            """, [job]
        ).rows.map { row in
            ScheduledRunRow(
                runID: Int64(row[0]!)!, trigger: row[1]!, scheduledFor: row[2].flatMap { Double($0) },
                status: row[3]!, attempts: Int(row[4]!)!, token: row[5].flatMap { Int64($0) }, error: row[6])
        }
    }

    /// The attempts of run `runID`: (attempt, token, instance, status).
    func attempts(of runID: Int64) throws -> [(attempt: Int, token: Int64, instance: String, status: String)]
    {
        try database.execute(
            "SELECT attempt, token, instance, status FROM prescore.job_run_attempts WHERE run_id = $1 ORDER BY attempt",
            [String(runID)]
        ).rows.map { (Int($0[0]!)!, Int64($0[1]!)!, $0[2]!, $0[3]!) }
    }
}

/// 2027-01-10T00:00:00Z, a Sunday: the start of the scheduler tests' made-up days.
let schedulerTestMidnight = Date(timeIntervalSince1970: 1_799_539_200)

func hours(_ value: Double) -> Date { schedulerTestMidnight.addingTimeInterval(value * 3_600) }
