/// How often a batch run may reconnect to Redis before it fails: at most `maxReconnects` within
/// `window` (3 in 30 s by default), each after a growing pause (0.25 s, 1 s, 4 s…) that lets a
/// restarting server come back.
///
/// Score writes are idempotent (`HSET` of the same field and value, `EXPIRE`), so re-sending the
/// pipeline that was in flight when the connection broke is safe. A Redis that keeps dropping the
/// connection fails the run instead of retrying forever. No I/O: the writer reports each loss with
/// a monotonic time in seconds and does what this answers.
public struct ReconnectBudget: Sendable {
    public enum Action: Sendable, Equatable {
        /// Reconnect after this pause, then re-send what was in flight.
        case reconnect(after: Duration)
        /// The budget is spent: fail with this reason.
        case giveUp(String)
    }

    public let maxReconnects: Int
    public let window: Duration
    private var losses: [Double] = []

    public init(maxReconnects: Int = 3, window: Duration = .seconds(30)) {
        self.maxReconnects = maxReconnects
        self.window = window
    }

    /// A connection was lost (or a reconnect failed) at `seconds`.
    public mutating func connectionLost(at seconds: Double) -> Action {
        losses.removeAll { seconds - $0 > window.totalSeconds }
        guard losses.count < maxReconnects else {
            return .giveUp(
                "the connection was lost \(losses.count + 1) times within \(window.jobFileText) "
                    + "(at most \(maxReconnects) reconnects are tried)")
        }
        losses.append(seconds)
        // 0.25 s, 1 s, 4 s, …: four times longer each time.
        var pause = Duration.milliseconds(250)
        for _ in 1..<losses.count { pause *= 4 }
        return .reconnect(after: pause)
    }
}
