import Foundation
import Testing

@testable import PrescoreCore

@Suite struct ServingGuardTests {
    let t0 = Date(timeIntervalSince1970: 1_000)

    @Test func theBreakerOpensAtHalfOfTheWindowAfterTheMinimumCallsThenHalfOpens() {
        var breaker = CircuitBreaker()
        // 19 failures: below the 20-call minimum, still closed.
        for _ in 0..<19 {
            #expect(breaker.event(.callRequested(at: t0)) == .permit)
            _ = breaker.event(.callFailed(at: t0))
        }
        #expect(breaker.state == .closed)
        _ = breaker.event(.callRequested(at: t0))
        _ = breaker.event(.callFailed(at: t0))
        #expect(breaker.state == .open(until: t0.addingTimeInterval(30)))
        #expect(breaker.event(.callRequested(at: t0.addingTimeInterval(29))) == .reject)
        // Cool-down over: five trial calls, then closed when all succeed.
        for _ in 0..<5 { #expect(breaker.event(.callRequested(at: t0.addingTimeInterval(31))) == .permit) }
        #expect(breaker.event(.callRequested(at: t0.addingTimeInterval(31))) == .reject)
        for _ in 0..<5 { _ = breaker.event(.callSucceeded) }
        #expect(breaker.state == .closed)
    }

    @Test func aFailedTrialReopensAndSuccessesKeepItClosed() {
        var breaker = CircuitBreaker()
        for index in 0..<100 {  // 40% failures: stays closed
            _ = breaker.event(.callRequested(at: t0))
            _ = breaker.event(index % 5 < 2 ? .callFailed(at: t0) : .callSucceeded)
        }
        #expect(breaker.state == .closed)
        var settings = CircuitBreaker.Settings()
        settings.minimumCalls = 2
        var small = CircuitBreaker(settings: settings)
        _ = small.event(.callFailed(at: t0))
        _ = small.event(.callFailed(at: t0))
        #expect(small.state.gaugeValue == 1)
        _ = small.event(.callRequested(at: t0.addingTimeInterval(30)))
        _ = small.event(.callFailed(at: t0.addingTimeInterval(30)))
        #expect(small.state == .open(until: t0.addingTimeInterval(60)))
    }

    @Test func aTrialCallNotMadeGivesItsPlaceBack() {
        var settings = CircuitBreaker.Settings()
        settings.minimumCalls = 1
        settings.trialCalls = 1
        var breaker = CircuitBreaker(settings: settings)
        _ = breaker.event(.callFailed(at: t0))
        #expect(breaker.event(.callRequested(at: t0.addingTimeInterval(31))) == .permit)
        _ = breaker.event(.callNotMade)
        #expect(breaker.event(.callRequested(at: t0.addingTimeInterval(31))) == .permit)
    }

    @Test func theBulkheadRunsQueuesAndRejects() {
        var bulkhead = Bulkhead(maxInFlight: 2, maxQueued: 1)
        #expect(bulkhead.event(.arrived) == .run)
        #expect(bulkhead.event(.arrived) == .run)
        #expect(bulkhead.event(.arrived) == .queue)
        #expect(bulkhead.event(.arrived) == .reject)
        #expect(bulkhead.event(.finished) == .runNext)
        #expect(bulkhead.event(.finished) == .none)
        #expect(bulkhead.inFlight == 1 && bulkhead.queued == 0)
        #expect(bulkhead.event(.arrived) == .run)
        #expect(bulkhead.event(.arrived) == .queue)
        #expect(bulkhead.event(.abandonedWhileQueued) == .none)
        #expect(bulkhead.queued == 0)
    }

    @Test func theDeadlineTakesWhicheverComesFirst() {
        var late = FallbackDeadline()
        #expect(late.event(.expired) == .answerFailure(reason: "no answer within realtime.timeout"))
        #expect(late.event(.scored(0.5)) == .none)
        var quick = FallbackDeadline()
        #expect(quick.event(.notFound) == .answerNotFound)
        #expect(quick.event(.expired) == .none)
    }

    @Test(arguments: ["", String(repeating: "k", count: 257), "a\u{0}b", "tab\there", "\u{7f}"])
    func badKeysAreRefused(key: String) {
        #expect(ScoreKey.problem(key) != nil)
    }

    @Test(arguments: ["42", "user-7", "' OR 1=1 --", "../etc", "ü", String(repeating: "k", count: 256)])
    func otherKeysAreLookedUpAsTheyAre(key: String) {
        #expect(ScoreKey.problem(key) == nil)
    }
}
