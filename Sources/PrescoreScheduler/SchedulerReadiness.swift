import Synchronization

/// Readiness for `/readyz`: PostgreSQL answered on the last tick, no shutdown has begun, and the
/// loop completed a tick within `staleAfter` (a loop stuck in a call that never returns must not
/// look healthy).
public final class SchedulerReadiness: Sendable {
    private let state = Mutex((ready: false, lastTick: ContinuousClock.now))
    public let staleAfter: Duration

    public init(staleAfter: Duration = .seconds(90)) {
        self.staleAfter = staleAfter
    }

    public var isReady: Bool {
        state.withLock { $0.ready && ContinuousClock.now - $0.lastTick < staleAfter }
    }

    func set(_ value: Bool) { state.withLock { $0.ready = value } }

    func tickCompleted() { state.withLock { $0.lastTick = ContinuousClock.now } }
}
