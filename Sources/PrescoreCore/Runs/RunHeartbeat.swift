/// The heartbeat of a run that a process owns by itself (`prescore run`, `trigger --now`): the
/// process renews the run's lease in PostgreSQL every third of it, with the run's counts so far.
/// Once the lease lapses, the next command that looks records the run `abandoned` and removes its
/// keys, so a run whose process died never stays `running`.
///
/// The process must therefore stop before its lease can lapse while it lives: when renewals fail
/// (PostgreSQL unreachable) for two thirds of the lease, or PostgreSQL says the run is no longer
/// its own, the run is cancelled. No I/O: times are monotonic seconds.
public struct RunHeartbeat: Sendable {
    public enum Event: Sendable, Equatable {
        case renewed(at: Double)
        case renewFailed(at: Double)
        /// The run row is no longer `running` under this process (recorded abandoned meanwhile).
        case lost(reason: String)
        /// `concurrency: replace` or an operator asked the run to stop.
        case cancelRequested(reason: String)
    }

    public enum Action: Sendable, Equatable {
        case none
        case cancelRun(reason: String)
    }

    public let lease: Duration
    private var lastRenewed: Double
    private var stopped = false

    public init(lease: Duration, startedAt: Double) {
        self.lease = lease
        lastRenewed = startedAt
    }

    /// How often to renew: a third of the lease.
    public var interval: Duration { lease / 3 }

    public mutating func event(_ event: Event) -> Action {
        guard !stopped else { return .none }
        switch event {
        case .renewed(let at):
            lastRenewed = at
            return .none
        case .renewFailed(let at):
            guard at - lastRenewed >= lease.totalSeconds * 2 / 3 else { return .none }
            stopped = true
            return .cancelRun(
                reason: "the run's heartbeat could not be recorded for \(Int(at - lastRenewed)) s "
                    + "(PostgreSQL unreachable): stopping before its lease of \(lease.jobFileText) lapses")
        case .lost(let reason), .cancelRequested(let reason):
            stopped = true
            return .cancelRun(reason: reason)
        }
    }
}
