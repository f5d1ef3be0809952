import Foundation

/// One job, as its `jobs/NAME.yaml` file defines it. The keys and their meaning are a contract that
/// other tools write against (see docs/jobs.md): rename nothing.
public struct JobDefinition: Sendable {
    /// `[a-z0-9][a-z0-9_-]{0,62}`: it becomes part of Redis keys, and commands take it as `JOB`.
    public var name: String
    public var schedule: CronExpression
    /// An IANA time zone identifier; the schedule is read in it. Default `UTC`.
    public var timezone: String
    public var model: ModelSpec
    /// Every entity with its features: the column named `key` is the entity key, every other column a
    /// feature bound to the model by name.
    public var sourceQuery: String
    public var realtime: Realtime?
    /// Batch against realtime scoring for this job's entities, as `serve` answers them.
    public var experiment: Experiment?
    public var output: Output
    public var guards: Guards
    /// The share of rows read that may fail to score (a NaN or infinite result, a NULL key) before
    /// the run fails instead of publishing: the job's error budget. Default 0.001.
    public var maxFailedFraction: Double
    /// How the scheduler runs the job: catch-up, overlap, retries, pause, alerts and history.
    public var scheduling: Scheduling
    /// The file the job came from, for messages.
    public var file: String
    /// Where fields whose problems can only be found later (a missing model file, a query PostgreSQL
    /// refuses) stood in the file, by dotted field path.
    public var locations: [String: SourceLocation]

    /// The one-entity query used on a cache miss; `$1` is the key.
    public struct Realtime: Sendable {
        public var query: String
        public var timeout: Duration
        /// What a miss is answered with when the fallback cannot answer (deadline, breaker open,
        /// bulkhead full, PostgreSQL away).
        public var onFailure: OnFailure = .error
        /// Fallbacks of this job running at once, and misses waiting for a place (the bulkhead).
        public var maxInFlight = 8
        public var maxQueued = 32
        public var breaker = CircuitBreaker.Settings()

        public init(query: String, timeout: Duration) {
            self.query = query
            self.timeout = timeout
        }
    }

    /// `realtime.on_failure`.
    public enum OnFailure: Sendable, Equatable {
        /// 503 with `Retry-After` (the default): the caller decides.
        case error
        /// Answer this score with `source: default`.
        case defaultScore(Float)
    }

    public struct Output: Sendable {
        /// How long a run's keys live in Redis at most: a safety net, not the way runs are removed.
        public var ttl: Duration
        /// How many published runs stay readable (the current one included) for rollback.
        public var keepRuns: Int

        /// Scores from a run older than this are answered with `stale: true` (nil: never stale).
        public var maxAge: Duration?

        /// The first part of every Redis key the job writes (`PREFIX:JOB:…`), so that a shared Redis
        /// can tell Prescore's keys from its other guests'.
        public var prefix: String

        public static let defaultTTL: Duration = .seconds(7 * 86_400)
        public static let defaultKeepRuns = 2
        public static let defaultPrefix = "prescore"
    }

    /// Publish guards: a run that fails one of them fails instead of replacing the published scores,
    /// so that a truncated or emptied source table cannot wipe them.
    public struct Guards: Sendable {
        /// The fewest rows a run must read. Default 1: publishing an empty run is never useful.
        public var minRows: Int
        /// How much smaller than the published run a run may be: it must read at least
        /// (1 − maxDropFraction) × the published run's rows. Default 0.5.
        public var maxDropFraction: Double

        public static let `default` = Guards(minRows: 1, maxDropFraction: 0.5)
    }

    public static let defaultMaxFailedFraction = 0.001

    /// Default time allowed for one realtime fetch-and-score.
    public static let defaultRealtimeTimeout: Duration = .milliseconds(50)

    /// `timezone` as a zone, for fire times. The parser refuses unknown names, so the fallback to
    /// UTC only serves definitions built in code.
    public var timeZone: TimeZone { TimeZone(identifier: timezone) ?? .gmt }

    /// A location for `field`, falling back to the file alone.
    public func location(of field: String) -> SourceLocation {
        locations[field] ?? SourceLocation(file: file, field: field)
    }
}
