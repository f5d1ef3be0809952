import Foundation
import Testing

@testable import PrescoreScheduler

@Suite struct SchedulerReadinessTests {
    /// A loop stuck in a call that never returns stops looking ready once no tick completed within
    /// `staleAfter`, although the last tick that did complete said ready.
    @Test func readinessGoesStaleWithoutTicks() {
        let readiness = SchedulerReadiness(staleAfter: .milliseconds(200))
        #expect(!readiness.isReady)
        readiness.set(true)
        readiness.tickCompleted()
        #expect(readiness.isReady)
        usleep(300_000)
        #expect(!readiness.isReady)
        readiness.tickCompleted()
        #expect(readiness.isReady)
    }
}
