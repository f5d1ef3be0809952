import Foundation
import PrescoreCore

/// The scheduler's side of `prescore.job_runs`: one row per slot, leases with fencing tokens, and
/// an attempt row per try. Every state change is one statement (or one transaction) whose WHERE
/// clause is the guard, so that any number of scheduler instances can share one database:
///
/// - a slot row is inserted once, whoever inserts it first (`ON CONFLICT DO NOTHING` on the unique
///   `(job, scheduled_for)`);
/// - a run is claimed by one instance only: the UPDATE re-checks its condition after taking the row
///   lock, so a second claimer finds nothing to update;
/// - a lease is renewed, and an outcome recorded, only with the token it was claimed under, so an
///   instance whose lease was taken over can change nothing.
///
/// Times come from the scheduler's clock (a parameter, so tests can drive it); instances must keep
/// their clocks within a small part of the lease of each other, as NTP does.
public struct RunLedger: Sendable {
    public let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// A run this instance holds the lease of.
    public struct Claim: Sendable, Equatable {
        public var job: String
        public var runID: Int64
        /// The fencing token: a fresh value of `prescore.run_ids` for each attempt after the first
        /// (the first uses the run id), under which the attempt writes and publishes in Redis.
        public var token: Int64
        /// 1-based.
        public var attempt: Int
        public var trigger: RunTrigger
        public var scheduledFor: Date?
    }

    /// A run waiting to be claimed: queued, retrying with its wait over, or held under an expired
    /// lease (its scheduler died).
    public struct Candidate: Sendable, Equatable {
        public var job: String
        public var runID: Int64
    }

    public enum RenewOutcome: Sendable, Equatable {
        case renewed
        /// `concurrency: replace` asks this run to stop.
        case cancelRequested(String)
        /// The lease is no longer this instance's.
        case lost
    }

    /// Records a slot with `status` (`queued`, `missed` or `skipped`). Returns the run id, or nil
    /// when the slot already had a row (another instance recorded it first).
    @discardableResult
    public func recordSlot(
        job: String, scheduledFor: Date, trigger: RunTrigger, status: RunStatus, reason: String? = nil,
        now: Date
    ) throws(PostgresError) -> Int64? {
        try connection.run(
            """
            INSERT INTO prescore.job_runs
                (job, run_id, trigger, scheduled_for, started_at, finished_at, status, error)
            VALUES (\(job), nextval('prescore.run_ids'), \(trigger.rawValue), \(time: scheduledFor), \(time: now),
                    \(time: status.isOpen ? nil : now), \(status.rawValue), \(reason))
            ON CONFLICT (job, scheduled_for) WHERE trigger IN ('schedule', 'catch-up') DO NOTHING
            RETURNING run_id
            """
        ).rows.first?[0].flatMap { Int64($0) }
    }

    /// Queues a manual run (`prescore trigger`) for a scheduler to start; returns its id.
    public func enqueueManual(job: String, now: Date) throws(PostgresError) -> Int64 {
        let result = try connection.run(
            """
            INSERT INTO prescore.job_runs (job, run_id, trigger, started_at, status)
            VALUES (\(job), nextval('prescore.run_ids'), 'manual', \(time: now), 'queued')
            RETURNING run_id
            """)
        guard let id = result.rows.first?[0].flatMap({ Int64($0) }) else {
            throw PostgresError(
                .protocolViolation, "INSERT … RETURNING gave no row", server: connection.server)
        }
        return id
    }

    /// Runs of `jobs` that can be claimed now, oldest first. Only the caller's jobs: open runs of a
    /// job it does not know (deleted, or another instance's) must not fill the `limit` and starve
    /// the rest. The query reads only the partial index of open runs, so a poll costs the same with
    /// ten jobs or ten thousand. The condition mirrors `RunClaim.decide`, which has the last word
    /// when the run is claimed.
    public func candidates(now: Date, jobs: [String], limit: Int = 200) throws(PostgresError) -> [Candidate] {
        try connection.run(
            """
            SELECT job, run_id FROM prescore.job_runs
            WHERE status IN ('queued', 'running', 'retrying') AND job = ANY(\(Self.textArray(jobs))::text[])
              AND cancel_requested IS NULL AND (status = 'queued'
                OR (status = 'retrying' AND not_before <= \(time: now))
                OR (status = 'running' AND lease_holder = 'scheduler' AND lease_expires_at < \(time: now)))
            ORDER BY coalesce(scheduled_for, started_at), run_id
            LIMIT \(limit)
            """
        ).rows.compactMap { row in
            guard let job = row[0], let id = row[1].flatMap({ Int64($0) }) else { return nil }
            return Candidate(job: job, runID: id)
        }
    }

    /// Claims `runID` for `instance` until `now + lease`, as a new attempt, when `RunClaim` says
    /// it may be claimed: the row is read under its lock, so a second claimer waits, then finds it
    /// running under a live lease. Returns nil when not claimable. A takeover marks the previous
    /// attempt `abandoned`.
    public func claim(
        job: String, runID: Int64, instance: String, lease: Duration, now: Date
    ) throws(PostgresError) -> Claim? {
        try connection.execute("BEGIN")
        do {
            let claim = try claimLocked(job: job, runID: runID, instance: instance, lease: lease, now: now)
            try connection.execute(claim == nil ? "ROLLBACK" : "COMMIT")
            return claim
        } catch {
            _ = try? connection.execute("ROLLBACK")
            throw error
        }
    }

    private func claimLocked(
        job: String, runID: Int64, instance: String, lease: Duration, now: Date
    ) throws(PostgresError) -> Claim? {
        guard
            let row = try connection.run(
                """
                SELECT status, attempts, lease_holder, extract(epoch FROM lease_expires_at)::float8,
                       extract(epoch FROM not_before)::float8, cancel_requested IS NOT NULL
                FROM prescore.job_runs WHERE job = \(job) AND run_id = \(runID) FOR UPDATE
                """
            ).rows.first,
            let status = row[0].flatMap(RunStatus.init(rawValue:)), let attempts = row[1].flatMap({ Int($0) })
        else { return nil }
        let decision = RunClaim.decide(
            RunClaim.Row(
                status: status, attempts: attempts, leaseHolder: row[2],
                leaseExpiresAt: row[3].flatMap { Double($0) }.map(Date.init(timeIntervalSince1970:)),
                notBefore: row[4].flatMap { Double($0) }.map(Date.init(timeIntervalSince1970:)),
                cancelRequested: row[5] == "t"),
            now: now)
        if decision == .no { return nil }
        if decision == .takeOver {
            try connection.run(
                """
                UPDATE prescore.job_run_attempts
                SET status = 'abandoned', finished_at = \(time: now), error = 'its scheduler stopped renewing the lease'
                WHERE job = \(job) AND run_id = \(runID) AND status = 'running'
                """)
        }
        let token: PostgresStatement = decision == .first ? "run_id" : "nextval('prescore.run_ids')"
        guard
            let updated = try connection.run(
                """
                UPDATE prescore.job_runs
                SET status = 'running', attempts = attempts + 1, lease_owner = \(instance), lease_holder = 'scheduler',
                    lease_expires_at = \(time: now.addingTimeInterval(lease.totalSeconds)), lease_token = \(token),
                    started_at = CASE WHEN attempts = 0 THEN \(time: now) ELSE started_at END, not_before = NULL
                WHERE job = \(job) AND run_id = \(runID)
                RETURNING lease_token, attempts, trigger, extract(epoch FROM scheduled_for)::float8
                """
            ).rows.first,
            let token = updated[0].flatMap({ Int64($0) }), let attempt = updated[1].flatMap({ Int($0) }),
            let trigger = updated[2].flatMap(RunTrigger.init)
        else {
            throw PostgresError(
                .protocolViolation, "UPDATE … RETURNING gave no row", server: connection.server)
        }
        try connection.run(
            """
            INSERT INTO prescore.job_run_attempts (job, run_id, attempt, token, instance, started_at, status)
            VALUES (\(job), \(runID), \(attempt), \(token), \(instance), \(time: now), 'running')
            """)
        return Claim(
            job: job, runID: runID, token: token, attempt: attempt, trigger: trigger,
            scheduledFor: updated[3].flatMap { Double($0) }.map { Date(timeIntervalSince1970: $0) })
    }

    /// Extends the lease of `claim` to `now + lease`.
    public func renew(_ claim: Claim, lease: Duration, now: Date) throws(PostgresError) -> RenewOutcome {
        let result = try connection.run(
            """
            UPDATE prescore.job_runs SET lease_expires_at = \(time: now.addingTimeInterval(lease.totalSeconds))
            WHERE job = \(claim.job) AND run_id = \(claim.runID) AND lease_token = \(claim.token) AND status = 'running'
            RETURNING cancel_requested
            """)
        guard let row = result.rows.first else { return .lost }
        return row[0].map { .cancelRequested($0) } ?? .renewed
    }

    /// How an attempt ended, as the run records it.
    public struct Outcome: Sendable, Equatable {
        /// The run's new status: `retrying` (with `notBefore`) for a retry, else final.
        public var status: RunStatus
        public var notBefore: Date?
        public var counts: RunCounts
        public var modelVersion: String?
        /// The job file's text; its SHA-256 is stored.
        public var definition: String?
        public var cpuSeconds: Double?
        public var error: String?

        public init(
            status: RunStatus, notBefore: Date? = nil, counts: RunCounts = RunCounts(),
            modelVersion: String? = nil,
            definition: String? = nil, cpuSeconds: Double? = nil, error: String? = nil
        ) {
            self.status = status
            self.notBefore = notBefore
            self.counts = counts
            self.modelVersion = modelVersion
            self.definition = definition
            self.cpuSeconds = cpuSeconds
            self.error = error
        }
    }

    /// Records how an attempt ended. Returns false when the lease was no longer this attempt's
    /// (nothing recorded).
    @discardableResult
    public func finish(_ claim: Claim, _ outcome: Outcome, now: Date) throws(PostgresError) -> Bool {
        let attemptStatus = outcome.status == .retrying ? RunStatus.failed : outcome.status
        let counts = outcome.counts
        let finished: Date? = outcome.status == .retrying ? nil : now
        return try !connection.run(
            """
            WITH run AS (
                UPDATE prescore.job_runs
                SET status = \(outcome.status.rawValue), finished_at = \(time: finished),
                    not_before = \(time: outcome.notBefore), rows_read = \(counts.read),
                    rows_scored = \(counts.scored), rows_written = \(counts.written), rows_failed = \(counts.failed),
                    cpu_seconds = \(outcome.cpuSeconds)::float8, error = \(outcome.error),
                    model_version = coalesce(\(outcome.modelVersion), model_version),
                    definition_hash = coalesce(encode(sha256(convert_to(\(outcome.definition), 'UTF8')), 'hex'),
                                               definition_hash),
                    lease_owner = NULL, lease_expires_at = NULL
                WHERE job = \(claim.job) AND run_id = \(claim.runID) AND lease_token = \(claim.token)
                  AND status = 'running'
                RETURNING run_id
            )
            UPDATE prescore.job_run_attempts
            SET status = \(attemptStatus.rawValue), finished_at = \(time: now), error = \(outcome.error)
            WHERE job = \(claim.job) AND run_id IN (SELECT run_id FROM run) AND token = \(claim.token)
            RETURNING attempt
            """
        ).rows.isEmpty
    }

    /// Records that this attempt lost its lease: the attempt row only; the run is the successor's.
    public func abandon(_ claim: Claim, reason: String, now: Date) throws(PostgresError) {
        try connection.run(
            """
            UPDATE prescore.job_run_attempts SET status = 'abandoned', finished_at = \(time: now), error = \(reason)
            WHERE job = \(claim.job) AND run_id = \(claim.runID) AND token = \(claim.token) AND status = 'running'
            """)
    }

    /// The latest slot recorded for `job`, whatever became of it: where a restarted scheduler
    /// resumes counting missed slots.
    public func lastSlot(job: String) throws(PostgresError) -> Date? {
        try connection.execute(
            """
            SELECT extract(epoch FROM max(scheduled_for))::float8 FROM prescore.job_runs
            WHERE job = $1 AND trigger IN ('schedule', 'catch-up')
            """, [job]
        ).scalar.flatMap { Double($0) }.map { Date(timeIntervalSince1970: $0) }
    }

    /// The time of each job's latest succeeded run, for the seconds-since-last-success metric.
    public func lastSuccesses() throws(PostgresError) -> [String: Date] {
        let rows = try connection.execute(
            """
            SELECT job, extract(epoch FROM max(finished_at))::float8 FROM prescore.job_runs
            WHERE status = 'succeeded' GROUP BY job
            """
        ).rows
        var result: [String: Date] = [:]
        for row in rows {
            if let job = row[0], let seconds = row[1].flatMap({ Double($0) }) {
                result[job] = Date(timeIntervalSince1970: seconds)
            }
        }
        return result
    }

    /// Deletes the finished runs (and their attempts) of `jobs` that ended before `cutoff`, at most
    /// `batch` runs a statement, so that no statement runs long or holds many locks however much
    /// history has piled up. Returns how many runs were deleted.
    @discardableResult
    public func prune(jobs: [String], finishedBefore cutoff: Date, batch: Int = 1_000) throws(PostgresError)
        -> Int
    {
        guard !jobs.isEmpty else { return 0 }
        let names = Self.textArray(jobs)
        var total = 0
        while true {
            let deleted = try connection.run(
                """
                DELETE FROM prescore.job_runs WHERE (job, run_id) IN (
                    SELECT job, run_id FROM prescore.job_runs
                    WHERE job = ANY(\(names)::text[]) AND finished_at < \(time: cutoff)
                      AND status NOT IN ('queued', 'running', 'retrying')
                    LIMIT \(batch))
                """
            ).affectedRows
            total += deleted
            if deleted < batch { return total }
        }
    }

    /// The advisory lock that lets one session at a time prune (`"prescore"` in ASCII).
    static let pruningLock = "8102650225856836197"

    /// Runs `body` holding the pruning lock, or returns nil at once when another session holds it:
    /// instances sharing PostgreSQL take turns instead of deleting the same rows under each other's
    /// locks.
    public func withPruningLock<R>(_ body: () throws(PostgresError) -> R) throws(PostgresError) -> R? {
        guard
            try connection.execute("SELECT pg_try_advisory_lock($1::bigint)", [Self.pruningLock]).scalar
                == "t"
        else { return nil }
        defer { _ = try? connection.execute("SELECT pg_advisory_unlock($1::bigint)", [Self.pruningLock]) }
        return try body()
    }

    static func seconds(_ date: Date) -> String { String(date.timeIntervalSince1970) }

    /// A `text[]` literal for a parameter, every element quoted: unquoted, an element spelled
    /// `null` (a valid job name) would be SQL NULL and match nothing.
    static func textArray(_ values: [String]) -> String {
        let quoted = values.map { value in
            "\""
                + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(
                    of: "\"", with: "\\\"")
                + "\""
        }
        return "{" + quoted.joined(separator: ",") + "}"
    }

}
