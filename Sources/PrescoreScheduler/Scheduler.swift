import Foundation
import Logging
import PrescoreBatch
import PrescoreCore
import PrescoreJobs
import PrescorePostgres
import PrescoreRedis

/// The scheduler: records each job's due slots in PostgreSQL, claims runs under leases, runs each
/// attempt on a thread of its own, renews the leases, and records every outcome.
///
/// Threading: every method that changes state (`tick`, `run`, `waitForAttempts`) is called from
/// one thread at a time: the loop's own thread under `run()`, or a test's thread driving `tick()`
/// with a `ManualClock`. Attempt threads and signal handlers talk to it only through `inbox`,
/// guarded by `signal`. Blocking libpq calls therefore never touch Swift's cooperative pool.
public final class Scheduler: @unchecked Sendable {
    // @unchecked Sendable: the loop state below is confined to one thread as described above, and
    // the only state shared with other threads (`inbox`) is read and written under `signal`.

    public struct Configuration: Sendable {
        /// The jobs folder, read at start and on every `requestReload()`.
        public var jobsDirectory: String
        public var databaseURL: String
        public var redisURL: RedisURL
        /// `scheduler@HOST:PID` by default: recorded with each attempt and as the lease owner.
        public var instance: String
        /// How long a claim holds without renewal; renewed every third of it.
        public var lease: Duration = .seconds(30)
        /// How long running attempts may go on after shutdown begins before they are cancelled.
        public var grace: Duration = .seconds(300)
        /// How often PostgreSQL is asked for manual triggers, due retries and expired leases.
        public var pollInterval: Duration = .seconds(1)
        /// Attempts this instance runs at once; each scores on all cores. Further runs wait in
        /// PostgreSQL for this or another instance.
        public var maxConcurrentRuns = 4
        /// A webhook that does not answer within this is logged and dropped.
        public var webhookTimeout: Duration = .seconds(5)

        public init(jobsDirectory: String, databaseURL: String, redisURL: RedisURL, instance: String) {
            self.jobsDirectory = jobsDirectory
            self.databaseURL = databaseURL
            self.redisURL = redisURL
            self.instance = instance
        }
    }

    struct JobState {
        var job: LoadedJob
        /// The latest slot looked at; nil until read from PostgreSQL.
        var cursor: Date?
        var nextDue: Date?
    }

    struct ActiveAttempt {
        var claim: RunLedger.Claim
        var job: LoadedJob
        var machine: ScheduledAttempt
        let cancellation: CancellationFlag
        var nextRenewal: Date
        let started: ContinuousClock.Instant
        /// Set once the attempt's thread returned and the machine decided; cleared by recording it.
        var outcome: (action: ScheduledAttempt.Action, report: BatchReport?)?
    }

    struct AttemptEnd {
        var runID: Int64
        var status: RunStatus
        var reason: String?
        var report: BatchReport?
    }

    struct Inbox {
        var ended: [AttemptEnd] = []
        var reload = true
        var shutdown = false
        var cancelNow = false
    }

    public let configuration: Configuration
    let clock: any SchedulerClock
    let logger: Logger
    let metrics = SchedulerMetrics()
    /// What `/readyz` reports: stale after three leases without a completed tick.
    public let readiness: SchedulerReadiness
    /// Webhook deliveries: one worker, a bounded queue.
    let alerts: AlertQueue
    /// Set while a sweep of lapsed process-owned runs is under way (on a thread of its own).
    let reaping = BusyFlag()
    /// Set while history pruning is under way (on a thread of its own).
    let pruning = BusyFlag()
    var pruneDone: BlockingExecutor.Completion?
    var lastReap = Date.distantPast

    // Loop state (one thread, see above).
    var jobs: [String: JobState] = [:]
    var active: [Int64: ActiveAttempt] = [:]
    var ledger: RunLedger?
    /// The earliest `nextDue` of all jobs; nil when some job still has to be planned.
    var earliestDue: Date?
    var lastPrune = Date.distantPast
    var shutdownStarted: Date?
    var lastSuccess: [String: Date] = [:]

    private let signal = NSCondition()
    private var inbox = Inbox()

    public init(configuration: Configuration, clock: any SchedulerClock = SystemClock(), logger: Logger) {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        readiness = SchedulerReadiness(staleAfter: configuration.lease * 3)
        alerts = AlertQueue(timeout: configuration.webhookTimeout, logger: logger)
    }

    // MARK: Requests from other threads

    /// Re-reads the job files at the next tick (SIGHUP).
    public func requestReload() { post { $0.reload = true } }

    /// Stops claiming runs; running attempts get the grace period, then are cancelled.
    public func beginShutdown() { post { $0.shutdown = true } }

    /// Cancels running attempts now (a second signal, or the service's cancellation).
    public func cancelNow() {
        post {
            $0.shutdown = true
            $0.cancelNow = true
        }
    }

    func post(_ change: (inout Inbox) -> Void) {
        signal.lock()
        change(&inbox)
        signal.broadcast()
        signal.unlock()
    }

    func takeInbox() -> Inbox {
        signal.lock()
        defer { signal.unlock() }
        let taken = inbox
        inbox.ended = []
        inbox.reload = false
        inbox.cancelNow = false
        return taken
    }

    // MARK: The loop

    /// Ticks until shutdown has begun and every attempt has ended and been recorded. Blocks the
    /// calling thread: start it on a thread of its own (`SchedulerService` does).
    public func run() {
        logger.info("scheduler \(configuration.instance) started")
        while true {
            tick()
            if let started = shutdownStarted {
                if active.isEmpty { break }
                // Past grace and a lease, outcomes that still cannot be recorded (PostgreSQL gone)
                // are given up: their leases expire and another instance retries those runs.
                let limit = configuration.grace.totalSeconds + configuration.lease.totalSeconds
                if clock.now().timeIntervalSince(started) > limit {
                    logger.error("stopping with \(active.count) attempt outcome(s) not recorded")
                    break
                }
            }
            let now = clock.now()
            let wake = nextWake(after: now)
            signal.lock()
            if inbox.ended.isEmpty && !inbox.reload && !(inbox.shutdown && shutdownStarted == nil)
                && !inbox.cancelNow
            {
                _ = signal.wait(until: Date().addingTimeInterval(max(0, wake.timeIntervalSince(now))))
            }
            signal.unlock()
        }
        alerts.drain(upTo: configuration.webhookTimeout * 2)
        logger.info("scheduler \(configuration.instance) stopped")
    }

    /// One pass: take what other threads posted, record ended attempts, renew leases, record due
    /// slots, claim runs. Tests call it directly with a `ManualClock`.
    public func tick() {
        let now = clock.now()
        let taken = takeInbox()
        if taken.shutdown && shutdownStarted == nil {
            shutdownStarted = now
            logger.info(
                "shutting down: no new runs; \(active.count) running attempt(s) get \(configuration.grace.jobFileText) to finish"
            )
        }
        if taken.cancelNow || shutdownGraceExpired(now) {
            cancelAll(reason: "the scheduler shut down before the run finished")
        }
        for end in taken.ended { attemptEnded(end) }
        if taken.reload { reload(now: now) }

        let ledger = connectedLedger()
        renewLeases(ledger, now: now)
        guard let ledger else {
            readiness.set(false)
            return
        }
        do {
            try recordOutcomes(ledger, now: now)
            if shutdownStarted == nil {
                try planSlots(ledger, now: now)
                try claimRuns(ledger, now: now)
            }
            pruneHistory(now: now)
            metrics.updateSinceLastSuccess(lastSuccess, now: now)
            try reapLapsedRuns(ledger, now: now)
            readiness.set(shutdownStarted == nil)
            readiness.tickCompleted()
        } catch {
            logger.error("PostgreSQL: \(error); retrying on the next tick")
            self.ledger = nil
            readiness.set(false)
        }
    }

    /// Blocks until every running attempt has ended (or `timeout` seconds passed), then ticks to
    /// record the outcomes. For tests and the bench, which drive the scheduler with a test clock.
    public func waitForAttempts(timeout: TimeInterval = 60) {
        let deadline = Date().addingTimeInterval(timeout)
        signal.lock()
        while inbox.ended.count < active.values.filter({ $0.outcome == nil }).count, Date() < deadline {
            _ = signal.wait(until: deadline)
        }
        signal.unlock()
        tick()
    }

    /// Runs this instance is working on, by run id (for tests and logs).
    public var activeRunIDs: [Int64] { active.keys.sorted() }

    func nextWake(after now: Date) -> Date {
        var wake = now.addingTimeInterval(configuration.pollInterval.totalSeconds)
        if let earliest = earliestDue, earliest < wake { wake = earliest }
        for attempt in active.values where attempt.nextRenewal < wake { wake = attempt.nextRenewal }
        if let started = shutdownStarted {
            wake = min(wake, started.addingTimeInterval(configuration.grace.totalSeconds))
        }
        return max(wake, now)
    }

    func connectedLedger() -> RunLedger? {
        if let ledger, ledger.connection.isHealthy { return ledger }
        do {
            // Every statement of the loop gets a third of a lease: a PostgreSQL that stops
            // answering fails the tick (readiness drops, attempts learn their lease could not be
            // renewed) instead of hanging the loop.
            let connection = try PostgresConnection(
                url: configuration.databaseURL, applicationName: "prescore scheduler",
                deadline: configuration.lease / 3)
            ledger = RunLedger(connection: connection)
            lastSuccess = try ledger!.lastSuccesses()
            return ledger
        } catch {
            if self.ledger != nil || readiness.isReady {
                logger.error("PostgreSQL cannot be reached: \(error)")
            }
            self.ledger = nil
            return nil
        }
    }

    /// Re-reads the jobs. A job whose file fails keeps its last good definition; a job whose
    /// schedule changed starts counting slots from now, so the change creates no missed slots.
    func reload(now: Date) {
        let load = JobLoad.read(directory: configuration.jobsDirectory)
        for problem in load.problems { logger.error("\(problem)") }
        let (merged, kept) = load.merged(keeping: jobs.values.map(\.job))
        for name in kept {
            logger.warning("job \(name): its file has problems; its last good definition keeps running")
        }
        var next: [String: JobState] = [:]
        for job in merged {
            var state = jobs[job.name] ?? JobState(job: job)
            let old = state.job.definition
            if old.schedule != job.definition.schedule || old.timezone != job.definition.timezone {
                state.cursor = state.cursor == nil ? nil : now
            }
            state.job = job
            state.nextDue = nil
            next[job.name] = state
        }
        jobs = next
        earliestDue = nil
        let names = jobs.keys.sorted()
        let listed = names.count <= 20 ? ": " + names.joined(separator: ", ") : ""
        logger.info("\(jobs.count) job(s)\(listed)")
    }

    func shutdownGraceExpired(_ now: Date) -> Bool {
        guard let started = shutdownStarted else { return false }
        return now.timeIntervalSince(started) >= configuration.grace.totalSeconds
    }
}
