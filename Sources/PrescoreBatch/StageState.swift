import Synchronization

/// What the run's threads share: the first failure of any stage and the writer's progress.
final class StageState: Sendable {
    private let firstFailure = Mutex<(any Error)?>(nil)
    let written = Atomic<Int>(0)
    let largestBucket = Atomic<Int>(0)
    /// Why Redis refused the writer's `RESTORE`s, when it did.
    let restoreRefusal = Mutex<String?>(nil)

    /// Keeps the first error; later ones are consequences of it.
    func fail(_ error: any Error) {
        firstFailure.withLock { if $0 == nil { $0 = error } }
    }

    var failure: (any Error)? { firstFailure.withLock { $0 } }
}
