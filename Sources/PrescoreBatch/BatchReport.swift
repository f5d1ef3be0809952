import PrescoreCore

/// What a run did, for the summary line, `--format json` and tests.
public struct BatchReport: Sendable {
    public var job: String
    /// Nil for a dry run, which records nothing.
    public var runID: Int64?
    public var status: RunStatus
    public var counts: RunCounts
    /// Why the run failed or was cancelled.
    public var reason: String?
    public var seconds: Double
    public var cpuSeconds: Double
    public var buckets: Int
    /// The most fields any bucket received; above Redis' `hash-max-listpack-entries` a bucket
    /// leaves the compact encoding and memory per score grows several times.
    public var largestBucket: Int
    /// Published runs removed after this one published (beyond `keep_runs`, or abandoned).
    public var removedRuns: [Int64]
    /// Set when the run's partial keys could not be removed (Redis gone): they expire with the TTL.
    public var cleanupProblem: String?
    /// How many times the Redis connection was lost and replaced (within `ReconnectBudget`).
    public var redisReconnects: Int
    public var dryRun: Bool
}

/// A progress report while rows stream.
public struct BatchProgress: Sendable {
    public var counts: RunCounts
    /// The planner's estimate of the source's rows (or the last run's, if larger), for an ETA.
    public var expectedRows: Int
    public var elapsedSeconds: Double
}
