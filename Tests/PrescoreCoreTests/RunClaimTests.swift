import Foundation
import Testing

@testable import PrescoreCore

@Suite struct RunClaimTests {
    let now = Date(timeIntervalSince1970: 10_000)

    @Test func queuedRunsAreClaimedAsTheirFirstAttempt() {
        #expect(RunClaim.decide(RunClaim.Row(status: .queued, attempts: 0), now: now) == .first)
        #expect(
            RunClaim.decide(RunClaim.Row(status: .queued, attempts: 0, cancelRequested: true), now: now)
                == .no)
    }

    @Test func retriesWaitForTheirBackoff() {
        let waiting = RunClaim.Row(status: .retrying, attempts: 1, notBefore: now.addingTimeInterval(1))
        #expect(RunClaim.decide(waiting, now: now) == .no)
        #expect(RunClaim.decide(waiting, now: now.addingTimeInterval(1)) == .retry)
    }

    /// Only a scheduler's lapsed lease is taken over; a `prescore run` process's run is closed as
    /// abandoned instead, and a live lease is nobody else's.
    @Test func onlyALapsedSchedulerLeaseIsTakenOver() {
        func running(_ holder: String, expires: TimeInterval) -> RunClaim.Row {
            RunClaim.Row(
                status: .running, attempts: 1, leaseHolder: holder,
                leaseExpiresAt: now.addingTimeInterval(expires))
        }
        #expect(RunClaim.decide(running("scheduler", expires: -1), now: now) == .takeOver)
        #expect(RunClaim.decide(running("scheduler", expires: 1), now: now) == .no)
        #expect(RunClaim.decide(running("process", expires: -1), now: now) == .no)
    }

    @Test func endedRunsAreNeverClaimed() {
        for status in RunStatus.allCases where !status.isOpen {
            #expect(RunClaim.decide(RunClaim.Row(status: status, attempts: 1), now: now) == .no)
        }
    }
}
