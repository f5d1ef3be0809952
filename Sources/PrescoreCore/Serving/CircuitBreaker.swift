import Foundation

/// A job's circuit breaker for the realtime fallback, as resilience4j's count-based one: it opens
/// when at least `failureRatio` of the last `window` calls failed (once `minimumCalls` were seen),
/// refuses every call while open, and after `coolDown` lets `trialCalls` through (half-open):
/// all succeed → closed, any fails → open again.
///
/// No I/O and no clock of its own: the caller passes the time and performs the action.
public struct CircuitBreaker: Sendable {
    public struct Settings: Sendable, Equatable {
        public var failureRatio: Double = 0.5
        public var window: Int = 100
        public var minimumCalls: Int = 20
        public var coolDown: Duration = .seconds(30)
        public var trialCalls: Int = 5

        public init() {}
    }

    public enum State: Sendable, Equatable {
        case closed
        case open(until: Date)
        case halfOpen(permitted: Int, succeeded: Int)

        /// 0 closed, 1 open, 2 half-open: the gauge `/metrics` exports.
        public var gaugeValue: Int {
            switch self {
            case .closed: 0
            case .open: 1
            case .halfOpen: 2
            }
        }
    }

    public enum Event: Sendable, Equatable {
        /// A miss wants to call the fallback.
        case callRequested(at: Date)
        case callSucceeded
        /// A failure: the query failed, timed out, or PostgreSQL is away (a key PostgreSQL does
        /// not have is a success: the fallback answered).
        case callFailed(at: Date)
        /// A permitted call was not made after all (the bulkhead was full): no verdict.
        case callNotMade
    }

    public enum Action: Sendable, Equatable {
        case none
        case permit
        case reject
    }

    public let settings: Settings
    public private(set) var state = State.closed
    /// The outcomes of the last `window` calls while closed, true for a failure.
    private var outcomes: [Bool] = []
    private var next = 0

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    public mutating func event(_ event: Event) -> Action {
        switch (state, event) {
        case (.closed, .callRequested):
            return .permit
        case (.open(let until), .callRequested(let at)):
            guard at >= until else { return .reject }
            state = .halfOpen(permitted: 1, succeeded: 0)
            return .permit
        case (.halfOpen(let permitted, let succeeded), .callRequested):
            guard permitted < settings.trialCalls else { return .reject }
            state = .halfOpen(permitted: permitted + 1, succeeded: succeeded)
            return .permit
        case (.closed, .callSucceeded):
            record(failure: false, at: nil)
        case (.closed, .callFailed(let at)):
            record(failure: true, at: at)
        case (.halfOpen(let permitted, let succeeded), .callSucceeded):
            if succeeded + 1 >= settings.trialCalls {
                close()
            } else {
                state = .halfOpen(permitted: permitted, succeeded: succeeded + 1)
            }
        case (.halfOpen, .callFailed(let at)):
            open(at: at)
        case (.halfOpen(let permitted, let succeeded), .callNotMade):
            state = .halfOpen(permitted: max(0, permitted - 1), succeeded: succeeded)
        case (.closed, .callNotMade), (.open, .callNotMade):
            break
        case (.open, .callSucceeded), (.open, .callFailed):
            break  // a call permitted before the breaker opened came back late
        }
        return .none
    }

    private mutating func record(failure: Bool, at: Date?) {
        if outcomes.count < settings.window {
            outcomes.append(failure)
        } else {
            outcomes[next] = failure
        }
        next = (next + 1) % settings.window
        guard outcomes.count >= settings.minimumCalls, let at else { return }
        let failures = outcomes.lazy.filter { $0 }.count
        if Double(failures) >= settings.failureRatio * Double(outcomes.count) { open(at: at) }
    }

    private mutating func open(at: Date) {
        state = .open(until: at.addingTimeInterval(settings.coolDown.totalSeconds))
        outcomes = []
        next = 0
    }

    private mutating func close() {
        state = .closed
        outcomes = []
        next = 0
    }
}
