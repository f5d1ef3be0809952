import Testing

@testable import PrescoreServer

/// The answer order of a connection whose hits are answered on the event loop, without I/O.
@Suite struct HitConnectionStateTests {
    @Test func aHitIsHeldUntilItsEndThenLookedUpAndAnswered() {
        var state = HitConnectionState()
        #expect(state.read(.head(isHit: true)) == .hold)
        #expect(state.read(.end) == .lookUp)
        #expect(state.isLookingUp)
        #expect(state.lookedUp(answered: true) == .answer)
        #expect(!state.isLookingUp && state.unanswered == 0)
    }

    @Test func aMissIsHandedOnAndCountsUntilItsAnswerEnds() {
        var state = HitConnectionState()
        _ = state.read(.head(isHit: true))
        _ = state.read(.end)
        #expect(state.lookedUp(answered: false) == .forwardHeld)
        #expect(state.unanswered == 1)
        // While Hummingbird owes an answer, even a hit goes to it (answers keep request order).
        #expect(state.read(.head(isHit: true)) == .forward)
        #expect(state.read(.end) == .forward)
        #expect(state.unanswered == 2)
        state.wroteEnd()
        #expect(state.read(.head(isHit: true)) == .forward)
        #expect(state.read(.end) == .forward)
        state.wroteEnd()
        state.wroteEnd()
        #expect(state.unanswered == 0)
        #expect(state.read(.head(isHit: true)) == .hold)
    }

    @Test func everythingReadDuringALookupWaits() {
        var state = HitConnectionState()
        _ = state.read(.head(isHit: true))
        _ = state.read(.end)
        for part: HitConnectionState.Part in [.head(isHit: false), .body, .end, .head(isHit: true), .end] {
            #expect(state.read(part) == .buffer)
        }
    }

    @Test func aHitWithABodyGoesToHummingbirdWhole() {
        var state = HitConnectionState()
        _ = state.read(.head(isHit: true))
        #expect(state.read(.body) == .forwardHeldThenThis)
        #expect(state.read(.body) == .forward)
        #expect(state.read(.end) == .forward)
        #expect(state.unanswered == 1)
    }

    @Test func otherRequestsGoToHummingbird() {
        var state = HitConnectionState()
        #expect(state.read(.head(isHit: false)) == .forward)
        #expect(state.read(.body) == .forward)
        #expect(state.read(.end) == .forward)
        #expect(state.unanswered == 1)
        state.wroteEnd()
        state.wroteEnd()  // an answer to no request (a parse error's 400) never goes below zero
        #expect(state.unanswered == 0)
    }

    @Test func theDateHeaderIsAnIMFFixdate() {
        #expect(HTTPDateHeader.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDateHeader.format(1_798_761_599) == "Thu, 31 Dec 2026 23:59:59 GMT")
    }
}
