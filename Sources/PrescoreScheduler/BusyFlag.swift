import Synchronization

/// Whether a piece of the scheduler's housekeeping (a sweep of lapsed runs, history pruning) is
/// under way on a thread of its own, so that the loop never starts a second one beside it.
final class BusyFlag: Sendable {
    private let flag = Mutex(false)

    /// Sets the flag; false when it was already set.
    func begin() -> Bool {
        flag.withLock { busy in
            defer { busy = true }
            return !busy
        }
    }

    func end() { flag.withLock { $0 = false } }
}
