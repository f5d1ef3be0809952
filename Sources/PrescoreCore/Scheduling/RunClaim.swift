import Foundation

/// Whether an instance may claim a run now, and as what: the first attempt, a retry whose backoff
/// is over, or the takeover of a run whose scheduler stopped renewing its lease. No I/O: the
/// ledger reads the run's row under a row lock, asks `decide`, and performs the answer.
public enum RunClaim {
    /// What PostgreSQL holds for the run when it is claimed.
    public struct Row: Sendable, Equatable {
        public var status: RunStatus
        public var attempts: Int
        /// `scheduler` or `process`, for a running run.
        public var leaseHolder: String?
        public var leaseExpiresAt: Date?
        public var notBefore: Date?
        public var cancelRequested: Bool

        public init(
            status: RunStatus, attempts: Int, leaseHolder: String? = nil, leaseExpiresAt: Date? = nil,
            notBefore: Date? = nil, cancelRequested: Bool = false
        ) {
            self.status = status
            self.attempts = attempts
            self.leaseHolder = leaseHolder
            self.leaseExpiresAt = leaseExpiresAt
            self.notBefore = notBefore
            self.cancelRequested = cancelRequested
        }
    }

    public enum Decision: Sendable, Equatable {
        /// Not claimable now (another instance has it, it ended, it waits, or it is to be cancelled).
        case no
        /// The first attempt: its token is the run id.
        case first
        /// A retry after a failed attempt: a fresh token.
        case retry
        /// The previous attempt's scheduler lost its lease: record that attempt abandoned, and run
        /// the next under a fresh token, which raises the run's fence past the stale one.
        case takeOver
    }

    public static func decide(_ row: Row, now: Date) -> Decision {
        guard !row.cancelRequested else { return .no }
        switch row.status {
        case .queued:
            return row.attempts == 0 ? .first : .retry
        case .retrying:
            guard let notBefore = row.notBefore, notBefore <= now else { return .no }
            return .retry
        case .running:
            // A `prescore run` process's lapsed run is closed as abandoned, never taken over: its
            // process may only be slow to notice, and it has no scheduler to hand over to.
            guard row.leaseHolder == "scheduler", let expires = row.leaseExpiresAt, expires < now else {
                return .no
            }
            return .takeOver
        default:
            return .no
        }
    }
}
