import Synchronization

/// Readiness for `/readyz`: PostgreSQL answered on the last tick and no shutdown has begun.
public final class SchedulerReadiness: Sendable {
    private let ready = Mutex(false)

    public init() {}

    public var isReady: Bool { ready.withLock { $0 } }

    func set(_ value: Bool) { ready.withLock { $0 = value } }
}
