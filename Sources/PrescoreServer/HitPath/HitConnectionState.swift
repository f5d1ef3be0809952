/// The order of answers on one HTTP/1.1 connection of `serve`, whose score hits are answered on
/// the event loop (`ScoreHitHandler`) while every other request goes to Hummingbird. HTTP/1.1
/// answers in request order, so a hit is answered there only when nothing handed to Hummingbird
/// is still unanswered, and whatever the client sends while a hit waits for Redis waits too.
/// No I/O: the handler performs the actions.
struct HitConnectionState: Equatable {
    /// What a request part is, as far as this machine cares.
    enum Part: Equatable {
        /// A request's head; `isHit` when it may be answered on the event loop.
        case head(isHit: Bool)
        case body
        case end
    }

    enum ReadAction: Equatable {
        /// Pass the part on to Hummingbird.
        case forward
        /// Keep the head: the request may be answered here once its end arrives.
        case hold
        /// The held request has a body after all: pass the held head on, then this part.
        case forwardHeldThenThis
        /// The held request is complete: look its score up.
        case lookUp
        /// A lookup is under way: keep the part until it is answered.
        case buffer
    }

    enum LookupAction: Equatable {
        /// Write the answer, then go on with what was buffered.
        case answer
        /// Not a hit here (a miss, an error, an expired pointer): pass the held request on to
        /// Hummingbird, which answers it in full, then go on with what was buffered.
        case forwardHeld
    }

    private enum Phase: Equatable {
        case idle, holding, forwarding, lookingUp
    }

    private var phase = Phase.idle
    /// Requests handed to Hummingbird whose answer has not ended yet.
    private(set) var unanswered = 0

    /// Whether parts read now must wait (a lookup is under way).
    var isLookingUp: Bool { phase == .lookingUp }

    mutating func read(_ part: Part) -> ReadAction {
        switch (phase, part) {
        case (.lookingUp, _):
            return .buffer
        case (.idle, .head(let isHit)):
            if isHit && unanswered == 0 {
                phase = .holding
                return .hold
            }
            unanswered += 1
            phase = .forwarding
            return .forward
        case (.holding, .end):
            phase = .lookingUp
            return .lookUp
        case (.holding, _):
            unanswered += 1
            phase = .forwarding
            return .forwardHeldThenThis
        case (.forwarding, .end):
            phase = .idle
            return .forward
        case (.forwarding, _), (.idle, .body), (.idle, .end):
            // The HTTP decoder sends head, body…, end; anything else is Hummingbird's to refuse.
            return .forward
        }
    }

    /// The lookup of the held request finished; `answered` when it found the score.
    mutating func lookedUp(answered: Bool) -> LookupAction {
        phase = .idle
        if answered { return .answer }
        unanswered += 1
        return .forwardHeld
    }

    /// Hummingbird wrote the end of an answer.
    mutating func wroteEnd() {
        unanswered = max(0, unanswered - 1)
    }
}
