import Synchronization

/// Set once, from a signal handler or another thread, to stop a run. Stages poll it between chunks
/// of work; a stage blocked on a server registers a handler that unblocks it (cancelling the
/// running PostgreSQL statement). The first reason given is kept.
///
/// `cancel` never runs the handlers on the caller's thread: `PQcancel` connects to the server, and
/// the caller may be the scheduler's loop or a signal handler, which must not wait on a network.
public final class CancellationFlag: Sendable {
    private struct State {
        var reason: String?
        var handlers: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())

    public init() {}

    public func cancel(_ why: String) {
        let handlers = state.withLock { state -> [@Sendable () -> Void] in
            guard state.reason == nil else { return [] }
            state.reason = why
            defer { state.handlers = [] }
            return state.handlers
        }
        guard !handlers.isEmpty else { return }
        BlockingExecutor.shared.execute("prescore-cancel") { for handler in handlers { handler() } }
    }

    /// Calls `handler` once when the flag is set, at once if it already is.
    func onCancel(_ handler: @escaping @Sendable () -> Void) {
        let alreadyCancelled = state.withLock { state in
            if state.reason == nil { state.handlers.append(handler) }
            return state.reason != nil
        }
        if alreadyCancelled { handler() }
    }

    /// Why the run was cancelled, or nil while it was not.
    public var cancellationReason: String? { state.withLock { $0.reason } }
}
