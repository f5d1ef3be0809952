/// How a failed attempt is retried: `max` retries after the first attempt, waiting `backoff`,
/// then twice that, and so on, capped at `cap`. Each wait is drawn between half and all of that
/// value ("equal jitter"), so that the doubling stays visible while schedulers that failed
/// together do not retry together.
public struct RetryPolicy: Sendable, Equatable {
    public var max: Int
    public var backoff: Duration
    public var cap: Duration

    public init(max: Int, backoff: Duration, cap: Duration = Self.defaultCap) {
        self.max = max
        self.backoff = backoff
        self.cap = cap
    }

    public static let defaultCap: Duration = .seconds(600)
    public static let `default` = RetryPolicy(max: 2, backoff: .seconds(30))

    /// The wait before attempt `attempt + 1`, after attempt `attempt` (1-based) failed, or nil
    /// when no retry is left. `unit` is a random number in [0, 1) (a parameter, so tests choose it).
    public func delay(afterAttempt attempt: Int, unit: Double) -> Duration? {
        guard attempt >= 1, attempt <= max else { return nil }
        let base = backoff.totalSeconds
        let doubled = base * Double(1 << Swift.min(attempt - 1, 30))
        let ceiling = Swift.min(doubled, cap.totalSeconds)
        let seconds = ceiling / 2 + ceiling / 2 * Swift.min(Swift.max(unit, 0), 1)
        return .milliseconds(Int64((seconds * 1_000).rounded()))
    }
}
