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
///
/// What is survived: a lost Redis connection is reconnected within a `ReconnectBudget` (3 in
/// 30 s) and the writes in flight are sent again; a lost bookkeeping connection is reconnected at
/// the next heartbeat. A lost source connection fails the run: its snapshot cannot be resumed.
public struct BatchRun: Sendable {
    /// Who owns the run, which decides what it records.
    public enum Mode: Sendable, Equatable {
        /// `prescore run`, `trigger --now`: the run records itself in `prescore.job_runs` and holds
        /// its lease there by a heartbeat (`RunHeartbeat`) until it ends.
        case manual
        /// An attempt of a run a scheduler claimed: the run row exists and the scheduler holds its
        /// lease and records the outcome; the attempt writes and publishes under its fencing
        /// token, behind the run's fence.
        case attempt(Attempt)
        /// Read and score everything, check the guards, write and record nothing.
        case dryRun
    }

    public struct Options: Sendable {
        public var mode: Mode
        /// Rows per batch: big enough that a bucket gets several fields per HSET, small enough to
        /// keep memory low (a batch of 16 features is about 4 MB).
        public var batchSize: Int
        /// The lease a manual run holds by its heartbeat (renewed every third of it).
        public var heartbeatLease: Duration
        /// The most scores held to be written whole by `RESTORE` at the end (see `ScoreWriter`); a
        /// larger run writes by `HSET` as it goes. Tests lower it to cross the switch with few rows.
        public var holdLimit: Int

        /// Held scores cost about 28 bytes each (59 MB at this limit) beside the run's other
        /// 90 MB; a run expected to be larger streams from its first batch, keeping a 10,000,000-
        /// entity run at about 150 MB peak.
        public static let defaultHoldLimit = 1 << 21

        public init(
            mode: Mode = .manual, batchSize: Int = 65_536, heartbeatLease: Duration = RunHistory.processLease,
            holdLimit: Int = defaultHoldLimit
        ) {
            self.mode = mode
            self.batchSize = batchSize
            self.heartbeatLease = heartbeatLease
            self.holdLimit = holdLimit
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
    var isDryRun: Bool { options.mode == .dryRun }
    var applicationName: String { "prescore run \(job.name)" }
    var modelVersion: String { scorer.version ?? "unversioned" }

    /// Runs the job. Errors thrown here happen before a run exists (a server that cannot be
    /// reached, a source that does not fit the model, a cancel before the start); once the run is
    /// recorded, every outcome is a report, failures included.
    public func run(
        cancellation: CancellationFlag, progress: @escaping (BatchProgress) -> Void,
        log: @escaping @Sendable (String) -> Void
    ) throws -> BatchReport {
        let started = ContinuousClock.now
        let cpuAtStart = Self.cpuSeconds()
        let prepared = try prepare(cancellation: cancellation, log: log)
        let identity = try recordStart(prepared, cancellation: cancellation, log: log)
        let live = LiveCounts()
        prepared.bookkeeping?.startHeartbeat(
            job: job.name, runID: identity.runID, counts: live, cpuAtStart: cpuAtStart,
            cancellation: cancellation, log: log)

        var lifecycle = RunLifecycle(
            guards: job.guards, maxFailedFraction: job.maxFailedFraction, dryRun: isDryRun)
        let written = write(
            prepared, identity, live: live, lifecycle: &lifecycle, cancellation: cancellation,
            progress: { counts in
                progress(
                    BatchProgress(
                        counts: counts, expectedRows: prepared.expectedRows,
                        elapsedSeconds: (ContinuousClock.now - started).totalSeconds))
            }, log: log)
        _ = try? prepared.source.execute("ROLLBACK")
        prepared.bookkeeping?.stopHeartbeat()
        var action = written.action
        if action == .publish {
            let cpuSeconds = Self.cpuSeconds() - cpuAtStart
            action = publish(prepared, identity, counts: written.counts, cpuSeconds: cpuSeconds, &lifecycle)
        }
        let cleanup = cleanUp(after: action, prepared, identity, log: log)
        var (status, reason) = Self.outcome(of: action)
        if status != .succeeded, written.counts.failed > 0, let failure = scorer.lastFailure {
            reason = (reason ?? "") + "; the model server: " + failure  // why the rows failed
        }
        let cpuSeconds = Self.cpuSeconds() - cpuAtStart
        recordEnd(
            prepared, identity, status: status, counts: written.counts, cpuSeconds: cpuSeconds,
            error: [reason, cleanup.problem].compactMap { $0 }.joined(separator: "; ").nilIfEmpty, log: log)
        return BatchReport(
            job: job.name, runID: isDryRun ? nil : identity.runID, status: status, counts: written.counts,
            reason: reason, seconds: (ContinuousClock.now - started).totalSeconds, cpuSeconds: cpuSeconds,
            buckets: prepared.buckets, largestBucket: written.largestBucket, removedRuns: cleanup.removed,
            cleanupProblem: cleanup.problem, redisReconnects: prepared.redis?.reconnects ?? 0,
            dryRun: isDryRun)
    }

    // MARK: - Stages

    /// What the run has before it writes: the source snapshot and its plan, Redis, the published
    /// run, the bucket count.
    struct Prepared {
        var source: PostgresConnection
        var plan: SourcePlan
        var redis: RedisSession?
        var published: PublishedRun?
        var expectedRows: Int
        var buckets: Int
        var bookkeeping: RunBookkeeping?
    }

    /// The run's ids: `runID` is what Redis keys are written under (the attempt's token for a
    /// scheduled attempt), `computedAt` its start in Unix seconds.
    struct Identity {
        var runID: Int64
        var computedAt: Int64
    }

    /// Connects, opens the snapshot and plans the source. A dry run goes on without Redis.
    func prepare(cancellation: CancellationFlag, log: (String) -> Void) throws -> Prepared {
        var redis = try raiseFence()
        let source = try PostgresConnection(url: databaseURL, applicationName: applicationName)
        try checkNotCancelled(cancellation)
        try source.beginSnapshot()
        let plan = try SourcePlan(
            source: job.sourceQuery, columns: source.describe(job.sourceQuery).columns, scorer: scorer)
        // In a savepoint: a failing EXPLAIN must not abort the snapshot the COPY reads from.
        let estimate = (try? source.estimatedRows(plan.query)) ?? 0
        try checkNotCancelled(cancellation)
        do {
            redis = try redis ?? RedisSession(url: redisURL, name: applicationName)
        } catch {
            guard isDryRun else { throw error }
            log("Redis cannot be reached (\(error)); the dry run checks no guard against the published run")
        }
        let published = try redis?.perform { try ScoreStore(connection: $0, layout: layout).published() }
        let expectedRows = ScoreLayout.expectedRows(estimate: estimate, lastRows: published?.rows)
        let bookkeeping =
            options.mode == .manual
            ? try RunBookkeeping(
                databaseURL: databaseURL, applicationName: applicationName, lease: options.heartbeatLease)
            : nil
        try checkNotCancelled(cancellation)
        return Prepared(
            source: source, plan: plan, redis: redis, published: published, expectedRows: expectedRows,
            buckets: ScoreLayout.bucketCount(expectedRows: expectedRows), bookkeeping: bookkeeping)
    }

    /// A scheduled attempt raises its run's fence to its token before anything else it does (before
    /// even connecting to PostgreSQL): from then on an older attempt of the run, whose scheduler
    /// lost the lease, cannot publish, however long this attempt's connects and planning take or
    /// whether they fail. Returns the Redis session it opened for that; nil for other modes.
    func raiseFence() throws -> RedisSession? {
        guard case .attempt(let attempt) = options.mode else { return nil }
        let redis = try RedisSession(url: redisURL, name: applicationName)
        try redis.perform { connection in
            try ScoreStore(connection: connection, layout: layout)
                .raiseFence(runID: attempt.runID, token: attempt.token, ttl: job.output.ttl)
        }
        return redis
    }

    /// Records the run's start (a manual run only; the scheduler recorded its attempts), after
    /// closing the job's runs whose process died.
    func recordStart(_ prepared: Prepared, cancellation: CancellationFlag, log: (String) -> Void) throws
        -> Identity
    {
        switch options.mode {
        case .attempt(let attempt):
            return Identity(runID: attempt.token, computedAt: Int64(Date().timeIntervalSince1970))
        case .dryRun:
            return Identity(runID: 0, computedAt: Int64(Date().timeIntervalSince1970))
        case .manual:
            guard let bookkeeping = prepared.bookkeeping else {
                preconditionFailure("a manual run records itself")
            }
            do {
                let closed = try bookkeeping.withHistory {
                    try LapsedRunReaper(history: $0, redisURL: redisURL).reap(job: job.name)
                }
                for line in closed { log(line) }
            } catch {
                log("runs whose process died could not be closed now: \(error)")
            }
            let record = try bookkeeping.withHistory {
                try $0.start(
                    job: job.name, trigger: .manual, modelVersion: modelVersion, definition: definitionText,
                    outputPrefix: job.output.prefix, lease: bookkeeping.lease)
            }
            return Identity(runID: record.runID, computedAt: record.startedAt)
        }
    }

    /// Registers the run in Redis and streams every row; returns what the lifecycle decided and
    /// how far the run got.
    func write(
        _ prepared: Prepared, _ identity: Identity, live: LiveCounts, lifecycle: inout RunLifecycle,
        cancellation: CancellationFlag, progress: @escaping (RunCounts) -> Void,
        log: @escaping (String) -> Void
    ) -> (action: RunLifecycle.Action, counts: RunCounts, largestBucket: Int) {
        do {
            let redis = isDryRun ? nil : prepared.redis
            if let redis {
                try redis.perform { connection in
                    let store = ScoreStore(connection: connection, layout: layout)
                    try checkMemory(
                        connection, expectedRows: prepared.expectedRows, keyKind: prepared.plan.keyKind)
                    try store.register(
                        PublishedRun(
                            runID: identity.runID, buckets: prepared.buckets, modelVersion: modelVersion,
                            computedAt: identity.computedAt, rows: 0),
                        ttl: job.output.ttl)
                }
            }
            let streamed = try stream(
                plan: prepared.plan, source: prepared.source, redis: redis, runID: identity.runID,
                buckets: prepared.buckets, live: live, cancellation: cancellation, progress: progress,
                log: log)
            return (
                lifecycle.event(.sourceFinished(streamed.counts, publishedRows: prepared.published?.rows)),
                streamed.counts, streamed.largestBucket
            )
        } catch let error as BatchError where error.code == .runCancelled {
            let reason = cancellation.cancellationReason ?? error.message
            return (lifecycle.event(.cancelRequested(reason)), live.current, 0)
        } catch {
            let event: RunLifecycle.Event =
                cancellation.cancellationReason.map { .cancelRequested($0) } ?? .failed(Self.reason(error))
            return (lifecycle.event(event), live.current, 0)
        }
    }

    /// The compare-and-set publish. A manual run first makes sure it still owns its row (not
    /// recorded abandoned while it ran). Sent again after a lost connection, a publish that had
    /// gone through finds its own run id as `high`: that is a success, not a refusal.
    func publish(
        _ prepared: Prepared, _ identity: Identity, counts: RunCounts, cpuSeconds: Double,
        _ lifecycle: inout RunLifecycle
    ) -> RunLifecycle.Action {
        do {
            if let bookkeeping = prepared.bookkeeping {
                let owned = try bookkeeping.withHistory {
                    try $0.heartbeat(
                        job: job.name, runID: identity.runID, counts: counts, cpuSeconds: cpuSeconds,
                        lease: bookkeeping.lease)
                }
                if owned == .lost {
                    return lifecycle.event(.failed("the run was recorded abandoned while it ran"))
                }
            }
            let run = PublishedRun(
                runID: identity.runID, buckets: prepared.buckets, modelVersion: modelVersion,
                computedAt: identity.computedAt, rows: counts.written)
            let fence: Int64? = if case .attempt(let attempt) = options.mode { attempt.runID } else { nil }
            // Published scores never expire: persisted first, so that no moment exists when the
            // pointer names a run whose keys still expire. A refused run's keys are removed anyway.
            let refusal = try prepared.redis!.perform { connection in
                let store = ScoreStore(connection: connection, layout: layout)
                try store.persist(identity.runID, buckets: prepared.buckets)
                return try store.publish(run, fence: fence)
            }
            switch refusal {
            case nil, .newerRun(identity.runID): return lifecycle.event(.published)
            case .newerRun(let newer): return lifecycle.event(.publishRefused(newerRun: newer))
            case .fenced(let token): return lifecycle.event(.publishFenced(byAttempt: token))
            }
        } catch {
            return lifecycle.event(.failed(Self.reason(error)))
        }
    }

    /// After a publish, removes runs beyond `keep_runs` and abandoned ones; after a failure, the
    /// run's own keys.
    func cleanUp(
        after action: RunLifecycle.Action, _ prepared: Prepared, _ identity: Identity, log: (String) -> Void
    ) -> (removed: [Int64], problem: String?) {
        guard let redis = prepared.redis, !isDryRun else { return ([], nil) }
        switch action {
        case .succeed:
            do {
                // Runs PostgreSQL records as open may still be writing: never swept under them.
                // Without that answer, nothing is swept this time.
                let live = try? RunHistory(connection: prepared.source).liveRunIDs(job: job.name)
                let removed = try redis.perform { connection in
                    let store = ScoreStore(connection: connection, layout: layout)
                    let trimmed = try store.trim(keepRuns: job.output.keepRuns)
                    try store.persistKeptRuns()
                    return try trimmed + (live.map { try store.sweepAbandonedRuns(live: $0) } ?? [])
                }
                return (removed, nil)
            } catch {
                log(
                    "the run is published, but removing old runs failed (their keys expire with the TTL): \(error)"
                )
                return ([], nil)
            }
        case .discard:
            do {
                try redis.perform { connection in
                    try ScoreStore(connection: connection, layout: layout)
                        .deleteRun(identity.runID, buckets: prepared.buckets)
                }
                return ([], nil)
            } catch {
                return (
                    [],
                    "its keys could not be removed and expire within \(job.output.ttl.jobFileText): \(error)"
                )
            }
        case .none, .publish, .reportDryRun:
            return ([], nil)
        }
    }

    /// Records how a manual run ended (the scheduler records its attempts itself).
    func recordEnd(
        _ prepared: Prepared, _ identity: Identity, status: RunStatus, counts: RunCounts, cpuSeconds: Double,
        error: String?, log: (String) -> Void
    ) {
        guard let bookkeeping = prepared.bookkeeping else { return }
        do {
            let recorded = try bookkeeping.withHistory {
                try $0.finish(
                    job: job.name, runID: identity.runID, status: status, counts: counts,
                    cpuSeconds: cpuSeconds,
                    error: error)
            }
            if !recorded { log("run \(identity.runID) had been recorded abandoned meanwhile; left as it is") }
        } catch {
            log(
                "could not record how run \(identity.runID) ended in prescore.job_runs (\(error)); "
                    + "its lease lapses and the next command that looks records it abandoned")
        }
    }

    static func outcome(of action: RunLifecycle.Action) -> (RunStatus, String?) {
        switch action {
        case .discard(let status, let why), .reportDryRun(let status, let why?): (status, why)
        default: (.succeeded, nil)
        }
    }

    func checkNotCancelled(_ cancellation: CancellationFlag) throws {
        if let reason = cancellation.cancellationReason { throw BatchError(.runCancelled, reason) }
    }

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

    static func connect(_ url: RedisURL, name: String) throws(RedisError) -> RedisConnection {
        let connection = try RedisConnection(url: url, timeout: .seconds(30))
        // Named, so that an operator (or a test) can find it in CLIENT LIST.
        _ = try? connection.command("CLIENT", "SETNAME", name.replacingOccurrences(of: " ", with: ":"))
        return connection
    }

    /// A failure as one line for the run history: the module's own message, no SQL, no values.
    public static func reason(_ error: any Error) -> String {
        "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
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
