import Foundation
import Testing

@testable import PrescoreCore

@Suite struct SlotPlanTests {
    let utc = TimeZone(identifier: "UTC")!
    let hourly = try! CronExpression("0 * * * *")
    /// 2027-01-10T00:00:00Z
    let midnight = Date(timeIntervalSince1970: 1_799_539_200)

    func at(hours: Double) -> Date { midnight.addingTimeInterval(hours * 3_600) }

    @Test func nothingDueKeepsTheCursor() {
        let plan = SlotPlan.plan(
            hourly, in: utc, after: at(hours: 0), now: at(hours: 0.5), startingDeadline: .seconds(3_600))
        #expect(plan.start == nil)
        #expect(plan.missed.isEmpty)
        #expect(plan.cursor == at(hours: 0))
    }

    @Test func aSlotDueNowStartsOnSchedule() throws {
        let plan = SlotPlan.plan(
            hourly, in: utc, after: at(hours: 0), now: at(hours: 1).addingTimeInterval(0.2),
            startingDeadline: .seconds(3_600))
        let start = try #require(plan.start)
        #expect(start.slot == at(hours: 1))
        #expect(start.trigger == .schedule)
        #expect(plan.cursor == at(hours: 1))
    }

    @Test func afterDowntimeTheLatestSlotCatchesUpAndOlderOnesAreMissed() throws {
        let plan = SlotPlan.plan(
            hourly, in: utc, after: at(hours: 0), now: at(hours: 5.5), startingDeadline: .seconds(3_600))
        let start = try #require(plan.start)
        #expect(start.slot == at(hours: 5))
        #expect(start.trigger == .catchUp)
        #expect(plan.missed == [at(hours: 1), at(hours: 2), at(hours: 3), at(hours: 4)])
        #expect(plan.unlistedMissed == 0)
        #expect(plan.cursor == at(hours: 5))
    }

    @Test func aSlotPastTheDeadlineIsMissedNotStarted() {
        let plan = SlotPlan.plan(
            hourly, in: utc, after: at(hours: 0), now: at(hours: 2.5), startingDeadline: .seconds(600))
        #expect(plan.start == nil)
        #expect(plan.missed == [at(hours: 1), at(hours: 2)])
        #expect(plan.cursor == at(hours: 2))
    }

    @Test func aLongOutageListsTheNewestMissesAndCountsTheRest() throws {
        let every = try CronExpression("@every 30s")
        let plan = SlotPlan.plan(
            every, in: utc, after: at(hours: 0), now: at(hours: 2), startingDeadline: .seconds(3_600))
        #expect(plan.start?.slot == at(hours: 2))
        #expect(plan.missed.count == SlotPlan.missedLimit)
        #expect(plan.missed.last == at(hours: 2).addingTimeInterval(-30))
        #expect(plan.unlistedMissed == 240 - 1 - SlotPlan.missedLimit)
    }

    @Test func aVeryLongOutageJumpsAheadWithoutCounting() throws {
        let every = try CronExpression("@every 1s")
        let plan = SlotPlan.plan(
            every, in: utc, after: at(hours: 0), now: at(hours: 24 * 7), startingDeadline: .seconds(60))
        #expect(plan.start?.slot == at(hours: 24 * 7))
        #expect(plan.missed.count == SlotPlan.missedLimit)
        #expect(plan.unlistedMissed == nil)
    }
}

@Suite struct ScheduledAttemptTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = RetryPolicy(max: 2, backoff: .seconds(30))

    func attempt(_ number: Int) -> ScheduledAttempt {
        ScheduledAttempt(attempt: number, claimedAt: start, lease: .seconds(30), retries: policy)
    }

    @Test func successFinishesTheRun() {
        var machine = attempt(1)
        #expect(machine.event(.renewed(at: start.addingTimeInterval(10))) == .none)
        #expect(
            machine.event(.runEnded(.succeeded, reason: nil))
                == .finish(.succeeded, reason: nil, alert: false))
    }

    @Test func failuresRetryUntilTheLastThenAlert() {
        var first = attempt(1)
        #expect(
            first.event(.runEnded(.failed, reason: "boom"), jitter: 1)
                == .retry(after: .seconds(30), reason: "boom"))
        var second = attempt(2)
        #expect(
            second.event(.runEnded(.failed, reason: "boom"), jitter: 1)
                == .retry(after: .seconds(60), reason: "boom"))
        var third = attempt(3)
        #expect(
            third.event(.runEnded(.failed, reason: "boom")) == .finish(.failed, reason: "boom", alert: true))
    }

    /// A run refused by a newer publish is final: a retry would start later and win.
    @Test func aSupersededRunIsNeitherRetriedNorAlerted() {
        var machine = attempt(1)
        #expect(
            machine.event(.runEnded(.superseded, reason: "run 12 is newer"))
                == .finish(.superseded, reason: "run 12 is newer", alert: false))
    }

    @Test func aRefusedRenewalCancelsAndAbandons() {
        var machine = attempt(1)
        #expect(machine.event(.renewRefused(reason: "taken over")) == .cancelRun(reason: "taken over"))
        #expect(machine.event(.runEnded(.cancelled, reason: "cancelled")) == .abandon(reason: "taken over"))
    }

    @Test func failedRenewalsCancelOnlyOnceTheLeaseHasRunOut() {
        var machine = attempt(1)
        #expect(machine.event(.renewFailed(at: start.addingTimeInterval(20))) == .none)
        #expect(
            machine.event(.renewFailed(at: start.addingTimeInterval(31)))
                == .cancelRun(reason: "the lease expired while PostgreSQL could not be reached"))
        #expect(machine.event(.cancelRequested(reason: "shutdown")) == .none)
        if case .abandon = machine.event(.runEnded(.failed, reason: "x")) {
        } else {
            Issue.record("not abandoned")
        }
    }

    @Test func aCancelledAttemptIsRecordedCancelledWithoutRetryOrAlert() {
        var machine = attempt(1)
        #expect(
            machine.event(.cancelRequested(reason: "shutting down")) == .cancelRun(reason: "shutting down"))
        #expect(
            machine.event(.runEnded(.cancelled, reason: "cancelled"))
                == .finish(.cancelled, reason: "shutting down", alert: false))
    }

    @Test func aRunThatPublishedBeforeTheCancelSucceeded() {
        var machine = attempt(1)
        _ = machine.event(.cancelRequested(reason: "replaced"))
        #expect(
            machine.event(.runEnded(.succeeded, reason: nil))
                == .finish(.succeeded, reason: nil, alert: false))
    }
}
