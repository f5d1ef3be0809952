import Foundation
import PrescoreCore
import PrescorePostgres
import PrescoreRedis

/// One batch run of a job: stream every entity from PostgreSQL, score it, write the scores to
/// Redis under the run's own keys, and publish the run atomically, or leave the published run
/// untouched and remove what was written.
///
/// Three stages overlap on their own threads (never Swift's cooperative pool): the reader decodes
/// binary COPY into batches, the caller's thread scores each batch on all cores, and the writer
/// pipelines HSETs to Redis. Bounded queues between them keep memory flat whatever the row count.
/// `RunLifecycle` decides what happens when the stream ends or anything fails.
public struct BatchRun: Sendable {
    public struct Options: Sendable {
        /// Read and score everything, write and record nothing.
        public var dryRun = false
        public var trigger = RunTrigger.manual
        public var scheduledFor: Int64?
        /// Rows per batch: big enough that a bucket gets several fields per HSET, small enough to
        /// keep memory low (a batch of 16 features is about 4 MB).
        public var batchSize: Int
        /// Set when a scheduler runs this as an attempt of a run it claimed: the run row exists
        /// and the scheduler records the outcome; the attempt writes and publishes under its
        /// fencing token, behind the run's fence.
        public var attempt: Attempt?

        public init(dryRun: Bool = false, batchSize: Int = 65_536, attempt: Attempt? = nil) {
            self.dryRun = dryRun
            self.batchSize = batchSize
            self.attempt = attempt
        }
    }

    /// One attempt of a scheduled run: `runID` is the run (`prescore.job_runs`), `token` the
    /// attempt's fencing token, which is also its run id in Redis.
    public struct Attempt: Sendable, Equatable {
        public var runID: Int64
        public var token: Int64

        public init(runID: Int64, token: Int64) {
            self.runID = runID
            self.token = token
        }
    }

    public let job: JobDefinition
    /// The job file's text: its hash is recorded with the run.
    public let definitionText: String
    public let scorer: any Scorer
    public let databaseURL: String
    public let redisURL: RedisURL
    public let options: Options

    /// Batches waiting between two stages: with one being worked on at each end, at most about
    /// four batches exist at a time.
    static let queueCapacity = 2
    /// Stored bytes a score is assumed to take when checking `maxmemory`: the layout's target for
    /// an integer key; a text key adds its own length (assumed 24 bytes before any run is known).
    static let bytesPerIntegerScore = 16
    static let bytesPerTextScore = 40
    static let loggedFailures = 5

    public init(
        job: JobDefinition, definitionText: String, scorer: any Scorer, databaseURL: String,
        redisURL: RedisURL, options: Options = Options()
    ) {
        self.job = job
        self.definitionText = definitionText
        self.scorer = scorer
        self.databaseURL = databaseURL
        self.redisURL = redisURL
        self.options = options
    }

    var layout: ScoreLayout { ScoreLayout(prefix: job.output.prefix, job: job.name) }

    /// Runs the job. Errors thrown here happen before a run exists (a server that cannot be
    /// reached, a source that does not fit the model); once the run is recorded, every outcome is a
    /// report, failures included.
    public func run(
        cancellation: CancellationFlag, progress: (BatchProgress) -> Void, log: (String) -> Void
    ) throws -> BatchReport {
        let clock = ContinuousClock()
        let started = clock.now
        let cpuAtStart = Self.cpuSeconds()
        let applicationName = "prescore run \(job.name)"
        let source = try PostgresConnection(url: databaseURL, applicationName: applicationName)
        try source.beginSnapshot()
        let plan = try SourcePlan(
            source: job.sourceQuery, columns: source.describe(job.sourceQuery).columns, scorer: scorer)
        let estimate = (try? source.estimatedRows(plan.query)) ?? 0

        let redis: RedisConnection?
        do {
            redis = try Self.connect(redisURL, name: applicationName)
        } catch  where options.dryRun {
            log("Redis cannot be reached (\(error)); the dry run checks no guard against the published run")
            redis = nil
        }
        let store = redis.map { ScoreStore(connection: $0, layout: layout) }
        let published = try store?.published()
        let expectedRows = max(estimate, published?.rows ?? 0)
        let buckets = ScoreLayout.bucketCount(expectedRows: expectedRows)

        var runID: Int64?
        var history: RunHistory?
        var computedAt = Int64(Date().timeIntervalSince1970)
        if let attempt = options.attempt {
            runID = attempt.token
        } else if !options.dryRun {
            let bookkeeping = try PostgresConnection(url: databaseURL, applicationName: applicationName)
            history = RunHistory(connection: bookkeeping)
            let record = try history!.start(
                job: job.name, trigger: options.trigger, scheduledFor: options.scheduledFor,
                modelVersion: modelVersion, definition: definitionText)
            runID = record.runID
            computedAt = record.startedAt
        }

        var lifecycle = RunLifecycle(
            guards: job.guards, maxFailedFraction: job.maxFailedFraction, dryRun: options.dryRun)
        var counts = RunCounts()
        var action: RunLifecycle.Action
        var largestBucket = 0
        do {
            if let store, let runID {
                try checkMemory(store.connection, expectedRows: expectedRows, keyKind: plan.keyKind)
                if let attempt = options.attempt {
                    try store.raiseFence(runID: attempt.runID, token: attempt.token, ttl: job.output.ttl)
                }
                try store.register(
                    PublishedRun(
                        runID: runID, buckets: buckets, modelVersion: modelVersion, computedAt: computedAt,
                        rows: 0),
                    ttl: job.output.ttl)
            }
            let streamed = try stream(
                plan: plan, source: source, redis: options.dryRun ? nil : redis, runID: runID ?? 0,
                buckets: buckets, cancellation: cancellation,
                progress: { counts in
                    progress(
                        BatchProgress(
                            counts: counts, expectedRows: expectedRows,
                            elapsedSeconds: (clock.now - started).totalSeconds))
                }, log: log)
            counts = streamed.counts
            largestBucket = streamed.largestBucket
            action = lifecycle.event(.sourceFinished(counts, publishedRows: published?.rows))
        } catch let error as BatchError where error.code == .runCancelled {
            action = lifecycle.event(.cancelRequested(cancellation.cancellationReason ?? error.message))
        } catch {
            action = lifecycle.event(
                cancellation.cancellationReason.map { .cancelRequested($0) } ?? .failed(Self.reason(error)))
        }
        _ = try? source.execute("ROLLBACK")

        var removed: [Int64] = []
        var cleanupProblem: String?
        if action == .publish, let runID {
            do {
                let run = PublishedRun(
                    runID: runID, buckets: buckets, modelVersion: modelVersion, computedAt: computedAt,
                    rows: counts.written)
                let refusal = try withStore(store!) { try $0.publish(run, fence: options.attempt?.runID) }
                switch refusal {
                case nil: action = lifecycle.event(.published)
                case .newerRun(let newer): action = lifecycle.event(.publishRefused(newerRun: newer))
                case .fenced(let token): action = lifecycle.event(.publishFenced(byAttempt: token))
                }
            } catch {
                action = lifecycle.event(.failed(Self.reason(error)))
            }
        }
        switch action {
        case .succeed:
            do {
                removed = try withStore(store!) { store in
                    try store.trim(keepRuns: job.output.keepRuns) + store.sweepAbandonedRuns()
                }
            } catch {
                log(
                    "the run is published, but removing old runs failed (their keys expire with the TTL): \(error)"
                )
            }
        case .discard:
            if let store, let runID {
                do {
                    try withStore(store) { try $0.deleteRun(runID, buckets: buckets) }
                } catch {
                    cleanupProblem =
                        "its keys could not be removed and expire within \(job.output.ttl): \(error)"
                }
            }
        case .none, .publish, .reportDryRun:
            break
        }

        let status: RunStatus
        let reason: String?
        switch action {
        case .discard(let finalStatus, let why), .reportDryRun(let finalStatus, let why?):
            (status, reason) = (finalStatus, why)
        default:
            (status, reason) = (.succeeded, nil)
        }
        let cpuSeconds = Self.cpuSeconds() - cpuAtStart
        if let history, let runID {
            do {
                try history.finish(
                    job: job.name, runID: runID, status: status, counts: counts, cpuSeconds: cpuSeconds,
                    error: [reason, cleanupProblem].compactMap { $0 }.joined(separator: "; ").nilIfEmpty)
            } catch {
                log("could not record how run \(runID) ended in prescore.job_runs: \(error)")
            }
        }
        return BatchReport(
            job: job.name, runID: runID, status: status, counts: counts, reason: reason,
            seconds: (clock.now - started).totalSeconds, cpuSeconds: cpuSeconds, buckets: buckets,
            largestBucket: largestBucket, removedRuns: removed, cleanupProblem: cleanupProblem,
            dryRun: options.dryRun)
    }

    var modelVersion: String { scorer.version ?? "unversioned" }

    /// Refuses a run that Redis' `maxmemory` cannot hold beside what it already holds (the kept
    /// runs included). Without `maxmemory` Redis takes what the machine has, and the check is skipped.
    func checkMemory(
        _ connection: RedisConnection, expectedRows: Int, keyKind: SourceColumns.KeyKind
    ) throws {
        let memory = try connection.info("memory")
        guard let maxMemory = memory["maxmemory"].flatMap({ Int($0) }), maxMemory > 0,
            let used = memory["used_memory"].flatMap({ Int($0) })
        else { return }
        let needed =
            expectedRows * (keyKind == .integer ? Self.bytesPerIntegerScore : Self.bytesPerTextScore)
        if used + needed > maxMemory {
            throw BatchError(
                .insufficientMemory,
                "Redis cannot hold this run: about \(Self.megabytes(needed)) for \(expectedRows) scores, "
                    + "with \(Self.megabytes(used)) of maxmemory \(Self.megabytes(maxMemory)) already used "
                    + "(the kept runs included). Raise maxmemory or lower output.keep_runs.")
        }
    }

    /// Runs `body` with `store`, and once more on a fresh connection when the first one was lost
    /// (a CLIENT KILL mid-run must not keep the run from cleaning up after itself).
    private func withStore<R>(_ store: ScoreStore, _ body: (ScoreStore) throws -> R) throws -> R {
        do {
            return try body(store)
        } catch let error as RedisError where error.code == .connectionLost {
            let fresh = try Self.connect(redisURL, name: "prescore run \(job.name)")
            return try body(ScoreStore(connection: fresh, layout: layout))
        }
    }

    static func connect(_ url: RedisURL, name: String) throws -> RedisConnection {
        let connection = try RedisConnection(url: url, timeout: .seconds(30))
        // Named, so that an operator (or a test) can find it in CLIENT LIST.
        _ = try? connection.command("CLIENT", "SETNAME", name.replacingOccurrences(of: " ", with: ":"))
        return connection
    }

    /// A failure as one line for the run history: the module's own message, no SQL, no values.
    public static func reason(_ error: any Error) -> String {
        "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    static func onThread(_ name: String, _ body: @escaping @Sendable () -> Void) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            body()
            done.signal()
        }
        thread.name = name
        thread.start()
        return done
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    static func megabytes(_ bytes: Int) -> String {
        String(format: "%.1f MB", Double(bytes) / 1_000_000)
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
