import Synchronization

/// Set once, from a signal handler or another thread, to stop a run; every stage polls it between
/// chunks of work. The first reason given is kept.
public final class CancellationFlag: Sendable {
    private let reason = Mutex<String?>(nil)

    public init() {}

    public func cancel(_ why: String) {
        reason.withLock { if $0 == nil { $0 = why } }
    }

    /// Why the run was cancelled, or nil while it was not.
    public var cancellationReason: String? { reason.withLock { $0 } }
}
