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
        let finished = status.isOpen ? nil : Self.seconds(now)
        return try connection.execute(
            """
            INSERT INTO prescore.job_runs
                (job, run_id, trigger, scheduled_for, started_at, finished_at, status, error)
            VALUES ($1, nextval('prescore.run_ids'), $2, to_timestamp($3::float8), to_timestamp($4::float8),
                    to_timestamp($5::float8), $6, $7)
            ON CONFLICT (job, scheduled_for) WHERE trigger IN ('schedule', 'catch-up') DO NOTHING
            RETURNING run_id
            """,
            [
                job, trigger.rawValue, Self.seconds(scheduledFor), Self.seconds(now), finished,
                status.rawValue, reason,
            ]
        ).rows.first?[0].flatMap { Int64($0) }
    }

    /// Queues a manual run (`prescore trigger`) for a scheduler to start; returns its id.
    public func enqueueManual(job: String, now: Date) throws(PostgresError) -> Int64 {
        let result = try connection.execute(
            """
            INSERT INTO prescore.job_runs (job, run_id, trigger, started_at, status)
            VALUES ($1, nextval('prescore.run_ids'), 'manual', to_timestamp($2::float8), 'queued')
            RETURNING run_id
            """, [job, Self.seconds(now)])
        guard let id = result.rows.first?[0].flatMap({ Int64($0) }) else {
            throw PostgresError(
                .protocolViolation, "INSERT … RETURNING gave no row", server: connection.server)
        }
        return id
    }

    /// Runs of `jobs` that can be claimed now, oldest first. Only the caller's jobs: open runs of a
    /// job it does not know (deleted, or another instance's) must not fill the `limit` and starve
    /// the rest. The query reads only the partial index of open runs, so a poll costs the same with
    /// ten jobs or ten thousand.
    public func candidates(now: Date, jobs: [String], limit: Int = 200) throws(PostgresError) -> [Candidate] {
        try connection.execute(
            """
            SELECT job, run_id FROM prescore.job_runs
            WHERE status IN ('queued', 'running', 'retrying') AND \(Self.claimable) AND job = ANY($3::text[])
            ORDER BY coalesce(scheduled_for, started_at), run_id
            LIMIT $1
            """, [String(limit), Self.seconds(now), Self.textArray(jobs)]
        ).rows.compactMap { row in
            guard let job = row[0], let id = row[1].flatMap({ Int64($0) }) else { return nil }
            return Candidate(job: job, runID: id)
        }
    }

    /// Claims `runID` for `instance` until `now + lease`, as a new attempt. Returns nil when the
    /// run is not claimable any more (another instance got it). A takeover marks the previous
    /// attempt `abandoned`.
    public func claim(
        job: String, runID: Int64, instance: String, lease: Duration, now: Date
    ) throws(PostgresError) -> Claim? {
        try connection.execute("BEGIN")
        do {
            let result = try connection.execute(
                """
                UPDATE prescore.job_runs
                SET status = 'running', attempts = attempts + 1, lease_owner = $3, lease_holder = 'scheduler',
                    lease_expires_at = to_timestamp($2::float8 + $4::float8),
                    lease_token = CASE WHEN attempts = 0 THEN run_id ELSE nextval('prescore.run_ids') END,
                    started_at = CASE WHEN attempts = 0 THEN to_timestamp($2::float8) ELSE started_at END,
                    not_before = NULL
                WHERE job = $1 AND run_id = $5 AND \(Self.claimable)
                RETURNING lease_token, attempts, trigger, extract(epoch FROM scheduled_for)::float8
                """,
                [job, Self.seconds(now), instance, String(lease.totalSeconds), String(runID)])
            guard let row = result.rows.first, let token = row[0].flatMap({ Int64($0) }),
                let attempt = row[1].flatMap({ Int($0) }), let trigger = row[2].flatMap(RunTrigger.init)
            else {
                try connection.execute("ROLLBACK")
                return nil
            }
            try connection.execute(
                """
                UPDATE prescore.job_run_attempts
                SET status = 'abandoned', finished_at = to_timestamp($3::float8),
                    error = 'its scheduler stopped renewing the lease'
                WHERE job = $1 AND run_id = $2 AND status = 'running'
                """, [job, String(runID), Self.seconds(now)])
            try connection.execute(
                """
                INSERT INTO prescore.job_run_attempts (job, run_id, attempt, token, instance, started_at, status)
                VALUES ($1, $2, $3, $4, $5, to_timestamp($6::float8), 'running')
                """,
                [job, String(runID), String(attempt), String(token), instance, Self.seconds(now)])
            try connection.execute("COMMIT")
            return Claim(
                job: job, runID: runID, token: token, attempt: attempt, trigger: trigger,
                scheduledFor: row[3].flatMap { Double($0) }.map { Date(timeIntervalSince1970: $0) })
        } catch {
            _ = try? connection.execute("ROLLBACK")
            throw error
        }
    }

    /// Extends the lease of `claim` to `now + lease`.
    public func renew(_ claim: Claim, lease: Duration, now: Date) throws(PostgresError) -> RenewOutcome {
        let result = try connection.execute(
            """
            UPDATE prescore.job_runs SET lease_expires_at = to_timestamp($4::float8 + $5::float8)
            WHERE job = $1 AND run_id = $2 AND lease_token = $3 AND status = 'running'
            RETURNING cancel_requested
            """,
            [
                claim.job, String(claim.runID), String(claim.token), Self.seconds(now),
                String(lease.totalSeconds),
            ])
        guard let row = result.rows.first else { return .lost }
        return row[0].map { .cancelRequested($0) } ?? .renewed
    }

    /// Records how an attempt ended: `status` is the run's new status (`retrying` with `notBefore`
    /// for a retry). Returns false when the lease was no longer this attempt's (nothing recorded).
    @discardableResult
    public func finish(
        _ claim: Claim, status: RunStatus, notBefore: Date? = nil, counts: RunCounts = RunCounts(),
        modelVersion: String? = nil, definition: String? = nil, cpuSeconds: Double? = nil,
        error: String?, now: Date
    ) throws(PostgresError) -> Bool {
        let attemptStatus = status == .retrying ? RunStatus.failed : status
        let result = try connection.execute(
            """
            WITH run AS (
                UPDATE prescore.job_runs
                SET status = $4, finished_at = CASE WHEN $4 = 'retrying' THEN NULL ELSE to_timestamp($5::float8) END,
                    not_before = to_timestamp($6::float8), rows_read = $7, rows_scored = $8,
                    rows_written = $9, rows_failed = $10, cpu_seconds = $11::float8, error = $12,
                    model_version = coalesce($13, model_version),
                    definition_hash = coalesce(encode(sha256(convert_to($14, 'UTF8')), 'hex'), definition_hash),
                    lease_owner = NULL, lease_expires_at = NULL
                WHERE job = $1 AND run_id = $2 AND lease_token = $3 AND status = 'running'
                RETURNING run_id
            )
            UPDATE prescore.job_run_attempts SET status = $15, finished_at = to_timestamp($5::float8), error = $12
            WHERE job = $1 AND run_id IN (SELECT run_id FROM run) AND token = $3
            RETURNING attempt
            """,
            [
                claim.job, String(claim.runID), String(claim.token), status.rawValue, Self.seconds(now),
                notBefore.map(Self.seconds), String(counts.read), String(counts.scored),
                String(counts.written),
                String(counts.failed), cpuSeconds.map { String($0) }, error, modelVersion, definition,
                attemptStatus.rawValue,
            ])
        return !result.rows.isEmpty
    }

    /// Records that this attempt lost its lease: the attempt row only; the run is the successor's.
    public func abandon(_ claim: Claim, reason: String, now: Date) throws(PostgresError) {
        try connection.execute(
            """
            UPDATE prescore.job_run_attempts SET status = 'abandoned', finished_at = to_timestamp($4::float8),
                error = $5
            WHERE job = $1 AND run_id = $2 AND token = $3 AND status = 'running'
            """, [claim.job, String(claim.runID), String(claim.token), Self.seconds(now), reason])
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
            let deleted = try connection.execute(
                """
                DELETE FROM prescore.job_runs WHERE (job, run_id) IN (
                    SELECT job, run_id FROM prescore.job_runs
                    WHERE job = ANY($1::text[]) AND finished_at < to_timestamp($2::float8)
                      AND status NOT IN ('queued', 'running', 'retrying')
                    LIMIT $3)
                """, [names, Self.seconds(cutoff), String(batch)]
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

    /// The claim condition, shared by `candidates` and `claim` so that they cannot drift apart.
    /// `$2` is now.
    private static let claimable = """
        cancel_requested IS NULL AND (status = 'queued'
            OR (status = 'retrying' AND not_before <= to_timestamp($2::float8))
            OR (status = 'running' AND lease_holder = 'scheduler'
                AND lease_expires_at < to_timestamp($2::float8)))
        """

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
