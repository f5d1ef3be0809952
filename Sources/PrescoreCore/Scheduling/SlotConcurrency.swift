import Foundation

/// What a due slot does about the job's runs that are still open (`concurrency`), decided once per
/// slot by the instance that records it, under the job's lock, from what PostgreSQL holds then.
///
/// No I/O: the scheduler reads the open runs, asks `decide`, and performs the decision in the same
/// transaction. Deciding before the slot's row exists, by every instance on its own, let the
/// instance that lost the insert cancel the slot's own run under `replace`.
public enum SlotConcurrency {
    /// An open run of the job, as PostgreSQL has it when the slot is recorded.
    public struct OpenRun: Sendable, Equatable {
        public enum State: Sendable, Equatable {
            /// Waiting for a scheduler, or for its retry's backoff.
            case waiting
            /// Running under a lease that is still held.
            case running
            /// Held by a scheduler whose lease ran out: another instance takes it over, so it still
            /// holds the job under `forbid`.
            case awaitingTakeover
            /// Held by a `prescore run` process whose heartbeat lapsed: the process is gone, the
            /// run is closed as abandoned by the next thing that looks. It holds nothing.
            case lapsed
        }

        public var runID: Int64
        public var state: State

        public init(runID: Int64, state: State) {
            self.runID = runID
            self.state = state
        }
    }

    public enum Decision: Sendable, Equatable {
        /// Record the slot `queued`.
        case start
        /// Record the slot `skipped` with `reason`.
        case skip(reason: String)
        /// Cancel the runs nobody works on (`idle`: cancelled now), ask the holders of the others
        /// to cancel (`held`: their next renewal sees it), and record the slot `queued`.
        case startReplacing(idle: [Int64], held: [Int64], reason: String)
    }

    public static func decide(
        _ policy: JobDefinition.Concurrency, slot: Date, open: [OpenRun]
    ) -> Decision {
        let live = open.filter { $0.state != .lapsed }
        guard !live.isEmpty else { return .start }
        switch policy {
        case .allow:
            return .start
        case .forbid:
            let ids = live.map { String($0.runID) }.joined(separator: ", ")
            return .skip(reason: "run \(ids) of the job was still open (concurrency: forbid)")
        case .replace:
            return .startReplacing(
                idle: live.filter { $0.state != .running }.map(\.runID),
                held: live.filter { $0.state == .running }.map(\.runID),
                reason: "replaced by the slot of \(FireTimeFormat.string(slot, in: .gmt))")
        }
    }
}
