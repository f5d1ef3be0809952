import Foundation

/// One attempt of a scheduled run, from the moment its scheduler claimed the run's lease to the
/// moment the outcome is recorded: lease renewal, cancellation, and what the outcome means for
/// the run (done, retried, failed for good).
///
/// No I/O: the scheduler feeds it what happened and performs the action it returns.
public struct ScheduledAttempt: Sendable {
    public enum Event: Sendable, Equatable {
        /// The lease was renewed in PostgreSQL at this time.
        case renewed(at: Date)
        /// PostgreSQL answered that the lease is no longer ours (taken over, or the run was
        /// cancelled by `concurrency: replace`); `reason` says which.
        case renewRefused(reason: String)
        /// PostgreSQL could not be asked at this time.
        case renewFailed(at: Date)
        /// Stop the attempt: the scheduler is shutting down past its grace period, or a newer slot
        /// replaces this one.
        case cancelRequested(reason: String)
        /// The batch run returned.
        case runEnded(RunStatus, reason: String?)
    }

    public enum Action: Sendable, Equatable {
        case none
        /// Cancel the batch run (it records nothing and publishes nothing once cancelled).
        case cancelRun(reason: String)
        /// Record the run's final status; `alert` asks for the job's webhook.
        case finish(RunStatus, reason: String?, alert: Bool)
        /// Record a failed attempt and queue the next one after `after`.
        case retry(after: Duration, reason: String)
        /// Another instance owns the run now: record the attempt as abandoned, not the run.
        case abandon(reason: String)
    }

    enum State: Sendable, Equatable {
        case running(lastRenewed: Date)
        case cancelling(reason: String)
        case lost(reason: String)
        case done
    }

    public let attempt: Int
    public let lease: Duration
    public let retries: RetryPolicy
    private(set) var state: State

    /// `attempt` is 1-based; `claimedAt` is when the lease was taken.
    public init(attempt: Int, claimedAt: Date, lease: Duration, retries: RetryPolicy) {
        self.attempt = attempt
        self.lease = lease
        self.retries = retries
        self.state = .running(lastRenewed: claimedAt)
    }

    /// `jitter` is a random number in [0, 1) for the retry backoff.
    public mutating func event(_ event: Event, jitter: Double = 0.5) -> Action {
        switch (state, event) {
        case (.running, .renewed(let at)):
            state = .running(lastRenewed: at)
            return .none
        case (.running, .renewRefused(let reason)):
            state = .lost(reason: reason)
            return .cancelRun(reason: reason)
        case (.running(let lastRenewed), .renewFailed(let at)):
            // Past the lease another instance may have taken the run over: stop, since this
            // attempt could no longer publish anyway (the fence refuses it).
            guard at.timeIntervalSince(lastRenewed) >= lease.totalSeconds else { return .none }
            let reason = "the lease expired while PostgreSQL could not be reached"
            state = .lost(reason: reason)
            return .cancelRun(reason: reason)
        case (.running, .cancelRequested(let reason)):
            state = .cancelling(reason: reason)
            return .cancelRun(reason: reason)
        case (.running, .runEnded(let status, let reason)):
            state = .done
            switch status {
            case .succeeded:
                return .finish(.succeeded, reason: nil, alert: false)
            case .cancelled:
                return .finish(.cancelled, reason: reason, alert: false)
            case .superseded:
                // A newer run already serves: retrying would replace it. Nothing failed.
                return .finish(.superseded, reason: reason, alert: false)
            default:
                let why = reason ?? "the run failed"
                if let delay = retries.delay(afterAttempt: attempt, unit: jitter) {
                    return .retry(after: delay, reason: why)
                }
                return .finish(.failed, reason: why, alert: true)
            }
        case (.cancelling(let why), .runEnded(let status, let reason)):
            state = .done
            // A run that got to publish before the cancel reached it did succeed.
            return status == .succeeded
                ? .finish(.succeeded, reason: nil, alert: false)
                : .finish(.cancelled, reason: status == .cancelled ? why : (reason ?? why), alert: false)
        case (.lost(let why), .runEnded):
            state = .done
            return .abandon(reason: why)
        case (.cancelling, _), (.lost, _), (.done, _):
            return .none
        }
    }
}
