/// One realtime fallback racing its deadline (`realtime.timeout`): whichever comes first decides
/// the answer; what comes second changes nothing (a score that arrives late is still written
/// back, so the next read is a hit).
///
/// No I/O: the server reports the fallback's end and the timer's firing and performs the action.
public struct FallbackDeadline: Sendable {
    public enum Event: Sendable, Equatable {
        case scored(Float)
        /// PostgreSQL has no row for the key.
        case notFound
        case failed(String)
        case expired
    }

    public enum Action: Sendable, Equatable {
        case none
        case answer(Float)
        case answerNotFound
        /// Answer as `on_failure` says; `countsAsFailure` feeds the breaker.
        case answerFailure(reason: String)
    }

    public private(set) var decided = false

    public init() {}

    public mutating func event(_ event: Event) -> Action {
        guard !decided else { return .none }
        decided = true
        switch event {
        case .scored(let score): return .answer(score)
        case .notFound: return .answerNotFound
        case .failed(let reason): return .answerFailure(reason: reason)
        case .expired: return .answerFailure(reason: "no answer within realtime.timeout")
        }
    }
}
