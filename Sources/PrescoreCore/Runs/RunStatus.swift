/// A run's status as `prescore.job_runs` records it.
public enum RunStatus: String, Sendable, Equatable, CaseIterable {
    /// Recorded (a manual trigger, a due slot) and not yet claimed by a scheduler.
    case queued
    case running
    /// An attempt failed; the next one waits for its backoff.
    case retrying
    case succeeded, failed, cancelled
    /// A slot that came due while no scheduler ran and was past `starting_deadline` when one did.
    case missed
    /// A slot that came due while an earlier run went on, under `concurrency: forbid`.
    case skipped
    /// The process that ran it (`prescore run`) stopped renewing its heartbeat: it died, or lost
    /// PostgreSQL for longer than its lease. Its keys are removed when this is recorded.
    case abandoned
    /// Its publish found a newer run already published (the newest *started* run wins): final,
    /// never retried, since a retry would start later and replace the newer scores with its own.
    case superseded

    /// Whether the run can still change: it holds the job under `concurrency: forbid`.
    public var isOpen: Bool { self == .queued || self == .running || self == .retrying }
}

/// How many rows a run has handled, stage by stage.
public struct RunCounts: Sendable, Equatable {
    /// Rows the source query returned.
    public var read = 0
    /// Rows with a finite score.
    public var scored = 0
    /// Scores Redis acknowledged.
    public var written = 0
    /// Rows that could not be scored: a NaN or infinite score, or a NULL key.
    public var failed = 0

    public init(read: Int = 0, scored: Int = 0, written: Int = 0, failed: Int = 0) {
        self.read = read
        self.scored = scored
        self.written = written
        self.failed = failed
    }
}

/// What started a run.
public enum RunTrigger: String, Sendable, Equatable {
    case schedule, manual
    case catchUp = "catch-up"
}
