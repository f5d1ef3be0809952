/// The life of one batch run, without I/O: the runner reports what happened and performs the action
/// this returns. It decides the rules that keep published scores safe: a run publishes only when
/// every row was read and written, its failures are within the error budget and the publish guards
/// pass; anything else (an error, a cancel, a refused publish) discards the run's keys and leaves
/// the published pointer where it was.
public struct RunLifecycle: Sendable {
    public enum State: Sendable, Equatable {
        case streaming
        case publishing
        case finished(RunStatus)
    }

    public enum Event: Sendable, Equatable {
        /// Reading, scoring or writing failed; the text says why.
        case failed(String)
        /// SIGINT or SIGTERM arrived.
        case cancelRequested(String)
        /// Every row was read, scored and written. `publishedRows` is the row count of the run that
        /// is published now, if any.
        case sourceFinished(RunCounts, publishedRows: Int?)
        /// The compare-and-set publish found a run at least as new already published.
        case publishRefused(newerRun: Int64)
        /// A newer attempt of the same run holds its fence: this attempt's scheduler lost the lease.
        case publishFenced(byAttempt: Int64)
        case published
    }

    public enum Action: Sendable, Equatable {
        case none
        /// Switch the pointer to this run (compare-and-set on the run id).
        case publish
        /// Record the run as `status` with `reason`, delete its keys, leave the pointer alone.
        case discard(RunStatus, reason: String)
        /// Record the run as succeeded and remove runs beyond `keep_runs`.
        case succeed
        /// A dry run is over: report `status` (and `reason`), write nothing.
        case reportDryRun(RunStatus, reason: String?)
    }

    public private(set) var state = State.streaming
    let guards: JobDefinition.Guards
    let maxFailedFraction: Double
    let dryRun: Bool

    public init(guards: JobDefinition.Guards, maxFailedFraction: Double, dryRun: Bool) {
        self.guards = guards
        self.maxFailedFraction = maxFailedFraction
        self.dryRun = dryRun
    }

    public mutating func event(_ event: Event) -> Action {
        switch (state, event) {
        case (.streaming, .failed(let reason)):
            return finish(.failed, reason)
        case (.streaming, .cancelRequested(let reason)):
            return finish(.cancelled, reason)
        case (.streaming, .sourceFinished(let counts, let publishedRows)):
            if let reason = refusal(counts, publishedRows: publishedRows) { return finish(.failed, reason) }
            if dryRun {
                state = .finished(.succeeded)
                return .reportDryRun(.succeeded, reason: nil)
            }
            state = .publishing
            return .publish
        case (.publishing, .publishRefused(let newer)):
            return finish(
                .superseded,
                "run \(newer) is already published and started later: an older run never replaces it")
        case (.publishing, .publishFenced(let token)):
            return finish(
                .failed,
                "attempt \(token) of this run took it over (this attempt's lease had expired): "
                    + "a stale attempt never publishes")
        case (.publishing, .failed(let reason)):
            return finish(.failed, "publishing failed: \(reason)")
        case (.publishing, .published):
            state = .finished(.succeeded)
            return .succeed
        default:
            // A cancel while publishing: the switch is one atomic step, let it complete. Anything after
            // the end changes nothing.
            return .none
        }
    }

    private mutating func finish(_ status: RunStatus, _ reason: String) -> Action {
        state = .finished(status)
        return dryRun ? .reportDryRun(status, reason: reason) : .discard(status, reason: reason)
    }

    /// Why a finished source must not be published, or nil when it may be.
    func refusal(_ counts: RunCounts, publishedRows: Int?) -> String? {
        if counts.read > 0, Double(counts.failed) > maxFailedFraction * Double(counts.read) {
            return "\(counts.failed) of \(counts.read) rows could not be scored, more than "
                + "max_failed_fraction \(maxFailedFraction) allows"
        }
        if counts.read < guards.minRows {
            return "read \(counts.read) rows, fewer than guards.min_rows \(guards.minRows)"
        }
        if let publishedRows {
            let floor = (1 - guards.maxDropFraction) * Double(publishedRows)
            if Double(counts.read) < floor {
                return "read \(counts.read) rows, fewer than (1 - guards.max_drop_fraction "
                    + "\(guards.maxDropFraction)) x \(publishedRows) rows of the published run"
            }
        }
        return nil
    }
}
