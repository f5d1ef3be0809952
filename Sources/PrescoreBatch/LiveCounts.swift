import PrescoreCore
import Synchronization

/// The counts of a run while it streams: updated by the scoring stage after each batch, read by the
/// heartbeat and by whatever ends the run, so that a failed, cancelled or abandoned run records how
/// far it got instead of zeros.
final class LiveCounts: Sendable {
    private let counts = Mutex(RunCounts())

    var current: RunCounts { counts.withLock { $0 } }

    func set(_ value: RunCounts) { counts.withLock { $0 = value } }
}
