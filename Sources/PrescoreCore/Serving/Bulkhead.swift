/// At most `maxInFlight` realtime fallbacks run at once, and at most `maxQueued` wait for a place;
/// a miss beyond that is answered by `on_failure` at once, so a slow PostgreSQL cannot pile up
/// requests (and memory) in the server.
///
/// No I/O: the server reports arrivals and completions and performs the action.
public struct Bulkhead: Sendable {
    public enum Event: Sendable, Equatable {
        case arrived
        /// A running fallback finished (however it ended).
        case finished
        /// A queued miss gave up waiting (its deadline passed).
        case abandonedWhileQueued
    }

    public enum Action: Sendable, Equatable {
        case none
        case run
        case queue
        case reject
        /// A place came free: start the oldest queued miss.
        case runNext
    }

    public let maxInFlight: Int
    public let maxQueued: Int
    public private(set) var inFlight = 0
    public private(set) var queued = 0

    public init(maxInFlight: Int, maxQueued: Int) {
        self.maxInFlight = max(1, maxInFlight)
        self.maxQueued = max(0, maxQueued)
    }

    public mutating func event(_ event: Event) -> Action {
        switch event {
        case .arrived:
            if inFlight < maxInFlight {
                inFlight += 1
                return .run
            }
            guard queued < maxQueued else { return .reject }
            queued += 1
            return .queue
        case .finished:
            if queued > 0 {
                queued -= 1
                return .runNext
            }
            inFlight = max(0, inFlight - 1)
            return .none
        case .abandonedWhileQueued:
            queued = max(0, queued - 1)
            return .none
        }
    }
}
