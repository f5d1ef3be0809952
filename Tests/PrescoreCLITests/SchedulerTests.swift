import Foundation
import PrescorePostgres
import PrescoreScheduler
import PrescoreTestSupport
import Testing

/// The scheduler in process, on the real PostgreSQL and Redis, driven by a `ManualClock`: hours of
/// slots, downtime and retries in seconds. Each test has a database, job and key prefix of its own.
@Suite struct SchedulerTests {
    let hourly = "0 * * * *"

    @Test func twoInstancesRunEachSlotOnceAndCatchUpAfterDowntime() throws {
        try BatchRunFixture.with(schedule: hourly, extra: "starting_deadline: 30m") { fixture in
            let clock = ManualClock(hours(0.5))
            let a = try fixture.scheduler(clock, instance: "a")
            let b = try fixture.scheduler(clock, instance: "b")
            a.tick()
            b.tick()
            #expect(try fixture.scheduledRuns().isEmpty)  // a new job does not backfill

            clock.set(hours(1).addingTimeInterval(0.3))
            a.tick()
            b.tick()
            a.waitForAttempts()
            b.waitForAttempts()
            var runs = try fixture.scheduledRuns()
            #expect(runs.count == 1)
            #expect(runs.first?.scheduledFor == hours(1).timeIntervalSince1970)
            #expect(runs.first?.trigger == "schedule")
            #expect(runs.first?.status == "succeeded")
            #expect(runs.first?.attempts == 1)
            #expect(try fixture.score(42)?.run == runs.first?.runID)
            #expect(try fixture.attempts(of: runs[0].runID).map(\.status) == ["succeeded"])

            // Every scheduler was down from 01:00 to 04:10: a new one starts 04:00 once, late, and
            // records 02:00 and 03:00 as missed.
            clock.set(hours(4).addingTimeInterval(600))
            let c = try fixture.scheduler(clock, instance: "c")
            c.tick()
            c.waitForAttempts()
            runs = try fixture.scheduledRuns()
            #expect(runs.map(\.scheduledFor) == [1, 2, 3, 4].map { hours($0).timeIntervalSince1970 })
            #expect(runs.map(\.status) == ["succeeded", "missed", "missed", "succeeded"])
            #expect(runs.map(\.trigger) == ["schedule", "schedule", "schedule", "catch-up"])
            #expect(runs[1].error?.contains("starting_deadline (30m)") == true)

            // 06:45: 06:00 is 45 minutes late, past the 30-minute deadline: nothing starts.
            clock.set(hours(6.75))
            c.tick()
            #expect(c.activeRunIDs.isEmpty)
            #expect(try fixture.scheduledRuns().suffix(2).map(\.status) == ["missed", "missed"])
        }
    }

    @Test func aFailingRunIsRetriedWithBackoffThenAlertsItsWebhook() throws {
        let hook = LoopbackHTTPServer(status: 204)
        defer { hook.stop() }
        let extra = """
            retries: {max: 1, backoff: 10s}
            alerts: {webhook_url: "http://127.0.0.1:\(hook.port)/prescore"}
            """
        try BatchRunFixture.with(schedule: hourly, extra: extra) { fixture in
            try fixture.setSource(rows: 0)  // min_rows (1) fails every attempt
            let (clock, scheduler) = try fixture.schedulerAtFirstSlot()
            scheduler.waitForAttempts()
            var run = try #require(try fixture.scheduledRuns().first)
            #expect(run.status == "retrying")
            #expect(run.attempts == 1)
            let wait = try #require(
                try fixture.database.execute(
                    "SELECT extract(epoch FROM not_before)::float8 FROM prescore.job_runs WHERE run_id = $1",
                    [String(run.runID)]
                ).scalar.flatMap { Double($0) })
            #expect((5...10).contains(wait - hours(1).timeIntervalSince1970))  // 10s with equal jitter

            clock.advance(by: 4)
            scheduler.tick()
            #expect(scheduler.activeRunIDs.isEmpty)  // still waiting
            clock.advance(by: 7)
            scheduler.tick()
            scheduler.waitForAttempts()
            run = try #require(try fixture.scheduledRuns().first)
            #expect(run.status == "failed")
            #expect(run.attempts == 2)
            #expect(run.token != run.runID)  // the retry wrote under a token of its own
            #expect(try fixture.attempts(of: run.runID).map(\.status) == ["failed", "failed"])

            var request: String?
            for _ in 0..<100 where request == nil {
                request = hook.receivedRequests.first
                if request == nil { usleep(50_000) }
            }
            let text = try #require(request)
            #expect(text.hasPrefix("POST /prescore "))
            let body = try #require(text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) })
            let json = try #require(
                try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            #expect(json["job"] as? String == fixture.job)
            #expect((json["run_id"] as? NSNumber)?.int64Value == run.runID)
            #expect(json["scheduled_for"] as? String == "2027-01-10T01:00:00+00:00")
            #expect(json["status"] as? String == "failed")
            #expect((json["attempts"] as? NSNumber)?.intValue == 2)
            #expect((json["error"] as? String)?.contains("min_rows") == true)
        }
    }

    @Test func forbidSkipsASlotWhileTheLastRunGoesOn() throws {
        try BatchRunFixture.with(schedule: hourly) { fixture in
            try fixture.setSource(rows: 1_000, pauseAt: 10, pauseSeconds: 2)
            let (clock, scheduler) = try fixture.schedulerAtFirstSlot()
            try fixture.waitForPause()
            clock.set(hours(2))
            scheduler.tick()
            scheduler.waitForAttempts()
            let runs = try fixture.scheduledRuns()
            #expect(runs.map(\.status) == ["succeeded", "skipped"])
            #expect(runs.last?.error?.contains("concurrency: forbid") == true)
        }
    }

    @Test func replaceCancelsTheRunningRunForTheNewSlot() throws {
        try BatchRunFixture.with(schedule: hourly, extra: "concurrency: replace") { fixture in
            try fixture.setSource(rows: 1_000, pauseAt: 10, pauseSeconds: 60)
            let (clock, scheduler) = try fixture.schedulerAtFirstSlot()
            try fixture.waitForPause()
            try fixture.setSource(rows: 1_000)
            clock.set(hours(2))
            scheduler.tick()
            scheduler.waitForAttempts()
            scheduler.waitForAttempts()
            let runs = try fixture.scheduledRuns()
            #expect(runs.map(\.status) == ["cancelled", "succeeded"])
            #expect(runs.first?.error?.contains("replaced by the slot of 2027-01-10T02:00:00+00:00") == true)
            #expect(try fixture.score(42)?.run == runs.last?.runID)
            #expect(try fixture.keys(ofRun: runs[0].runID).isEmpty)
        }
    }

    @Test func aSuspendedJobRunsOnlyWhenTriggered() throws {
        try BatchRunFixture.with(schedule: hourly, extra: "suspend: true") { fixture in
            let clock = ManualClock(hours(0.9))
            let scheduler = try fixture.scheduler(clock)
            scheduler.tick()
            clock.set(hours(3))
            scheduler.tick()
            #expect(try fixture.scheduledRuns().isEmpty)

            let trigger = try PrescoreProcess.run(fixture.arguments("trigger", [fixture.job]))
            #expect(trigger.status == 0, "\(trigger.standardError)")
            #expect(trigger.standardOutput.contains("queued"))
            scheduler.tick()
            scheduler.waitForAttempts()
            let runs = try fixture.scheduledRuns()
            #expect(runs.map(\.trigger) == ["manual"])
            #expect(runs.map(\.status) == ["succeeded"])
        }
    }

    @Test func aBadFileOnReloadKeepsTheLastGoodDefinition() throws {
        try BatchRunFixture.with(schedule: hourly) { fixture in
            let clock = ManualClock(hours(0.9))
            let scheduler = try fixture.scheduler(clock)
            scheduler.tick()
            try fixture.folder.write("\(fixture.job).yaml", "name: [unclosed\n")
            scheduler.requestReload()
            clock.set(hours(1))
            scheduler.tick()
            scheduler.waitForAttempts()
            #expect(try fixture.scheduledRuns().map(\.status) == ["succeeded"])
        }
    }

    @Test func shutdownCancelsRunsStillGoingAfterTheGracePeriod() throws {
        try BatchRunFixture.with(schedule: hourly) { fixture in
            try fixture.setSource(rows: 1_000, pauseAt: 10, pauseSeconds: 60)
            let (clock, scheduler) = try fixture.schedulerAtFirstSlot(grace: .seconds(5))
            try fixture.waitForPause()
            scheduler.beginShutdown()
            scheduler.tick()
            #expect(scheduler.activeRunIDs.count == 1)  // within the grace period it goes on
            clock.advance(by: 6)
            scheduler.tick()
            scheduler.waitForAttempts()
            let run = try #require(try fixture.scheduledRuns().first)
            #expect(run.status == "cancelled")
            #expect(run.error?.contains("shut down") == true)
            #expect(try fixture.store.published() == nil)
            #expect(try fixture.keys(ofRun: run.runID).isEmpty)
        }
    }

    @Test func aSuccessorTakesAnExpiredLeaseOverAndTheStaleAttemptCannotPublish() throws {
        try BatchRunFixture.with(schedule: hourly) { fixture in
            try fixture.setSource(rows: 1_000, pauseAt: 10, pauseSeconds: 3)
            let clock = ManualClock(hours(0.9))
            let a = try fixture.scheduler(clock, instance: "a", lease: .seconds(10))
            let b = try fixture.scheduler(clock, instance: "b", lease: .seconds(10))
            a.tick()
            b.tick()
            clock.set(hours(1))
            a.tick()
            try fixture.waitForPause()
            try fixture.setSource(rows: 1_000)  // b's attempt does not pause (a's snapshot still does)

            // a stops ticking (as if it hung); past its lease b takes the run over.
            clock.advance(by: 11)
            b.tick()
            b.waitForAttempts()
            var run = try #require(try fixture.scheduledRuns().first)
            #expect(run.status == "succeeded")
            #expect(run.attempts == 2)
            let token = try #require(run.token)
            #expect(token != run.runID)
            #expect(try fixture.score(42)?.run == token)

            // a's attempt wakes up, writes everything, and its publish is refused by the fence.
            a.waitForAttempts()
            run = try #require(try fixture.scheduledRuns().first)
            #expect(run.status == "succeeded")
            #expect(try fixture.score(42)?.run == token)
            let attempts = try fixture.attempts(of: run.runID)
            #expect(attempts.map(\.instance) == ["a", "b"])
            #expect(attempts.map(\.status) == ["abandoned", "succeeded"])
            #expect(try fixture.keys(ofRun: run.runID).isEmpty)  // a's keys were removed
        }
    }

    @Test func runsPastTheJobsHistoryAreDeleted() throws {
        try BatchRunFixture.with(schedule: "0 1 * * *", extra: "history: 1h") { fixture in
            let (clock, scheduler) = try fixture.schedulerAtFirstSlot()
            scheduler.waitForAttempts()
            #expect(try fixture.scheduledRuns().map(\.status) == ["succeeded"])
            clock.set(hours(1.9))
            scheduler.tick()
            scheduler.waitForPruning()
            #expect(try fixture.scheduledRuns().count == 1)  // 54 minutes old: kept
            clock.set(hours(2.2))
            scheduler.tick()
            scheduler.waitForPruning()
            #expect(try fixture.scheduledRuns().isEmpty)
            #expect(try fixture.attempts(of: 1).isEmpty)
        }
    }
}
