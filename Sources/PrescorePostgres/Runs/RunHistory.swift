import Foundation
import PrescoreCore

/// The run history, `prescore.job_runs`: a row when a run starts, updated when it ends.
public struct RunHistory: Sendable {
    public let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// How long a process-owned run stays its process's without a heartbeat. Leases of
    /// process-owned runs are read by PostgreSQL's clock (`now()`), so the clocks of the machines
    /// running `prescore` do not matter.
    public static let processLease = Duration.seconds(30)

    /// Records a new running run, owned by this process under a lease of `lease` that
    /// `heartbeat` renews, and returns its id (from `prescore.run_ids`, so later runs have higher
    /// ids) and its start in Unix seconds. `definition` is the job file's text; only its SHA-256 is
    /// stored, so a run can be matched to the definition that produced it. `outputPrefix` is where
    /// its keys go, so that whoever finds it abandoned can remove them without the job file.
    public func start(
        job: String, trigger: RunTrigger, scheduledFor unixSeconds: Int64? = nil, modelVersion: String,
        definition: String, outputPrefix: String, lease: Duration = processLease
    ) throws(PostgresError) -> (runID: Int64, startedAt: Int64) {
        let result = try connection.execute(
            """
            WITH id AS (SELECT nextval('prescore.run_ids') AS run_id),
            run AS (
                INSERT INTO prescore.job_runs
                    (job, run_id, trigger, scheduled_for, status, model_version, definition_hash, attempts,
                     lease_token, lease_owner, lease_holder, lease_expires_at, output_prefix)
                SELECT $1, run_id, $2, to_timestamp($3::bigint), 'running', $4,
                       encode(sha256(convert_to($5, 'UTF8')), 'hex'), 1, run_id, $6, 'process',
                       now() + make_interval(secs => $7::float8), $8
                FROM id
                RETURNING job, run_id, started_at
            ),
            attempt AS (
                INSERT INTO prescore.job_run_attempts (job, run_id, attempt, token, instance, started_at, status)
                SELECT job, run_id, 1, run_id, $6, started_at, 'running' FROM run
            )
            SELECT run_id, extract(epoch FROM started_at)::bigint FROM run
            """,
            [
                job, trigger.rawValue, unixSeconds.map(String.init), modelVersion, definition,
                RunHistory.instanceName(role: "prescore run"), String(lease.totalSeconds), outputPrefix,
            ])
        guard let row = result.rows.first, let id = row[0].flatMap({ Int64($0) }),
            let started = row[1].flatMap({ Int64($0) })
        else {
            throw PostgresError(
                .protocolViolation, "INSERT … RETURNING gave no row", server: connection.server)
        }
        return (id, started)
    }

    /// What a heartbeat found.
    public enum HeartbeatOutcome: Sendable, Equatable {
        case renewed
        /// Someone asked the run to stop (`concurrency: replace`).
        case cancelRequested(String)
        /// The run is no longer `running` under this process: it was recorded abandoned.
        case lost
    }

    /// Renews the lease of process-owned run `runID` and records its counts so far, so that a run
    /// whose process dies keeps its last figures.
    public func heartbeat(
        job: String, runID: Int64, counts: RunCounts, cpuSeconds: Double, lease: Duration = processLease
    ) throws(PostgresError) -> HeartbeatOutcome {
        let result = try connection.execute(
            """
            UPDATE prescore.job_runs
            SET lease_expires_at = now() + make_interval(secs => $3::float8), rows_read = $4,
                rows_scored = $5, rows_written = $6, rows_failed = $7, cpu_seconds = $8
            WHERE job = $1 AND run_id = $2 AND status = 'running' AND lease_holder = 'process'
            RETURNING cancel_requested
            """,
            [job, String(runID), String(lease.totalSeconds)] + Self.figures(counts, cpuSeconds))
        guard let row = result.rows.first else { return .lost }
        return row[0].map { .cancelRequested($0) } ?? .renewed
    }

    /// Records how a run ended. `error` is the reason of a failed or cancelled run. Returns false
    /// when the run was no longer running (recorded abandoned meanwhile): nothing is changed then.
    @discardableResult
    public func finish(
        job: String, runID: Int64, status: RunStatus, counts: RunCounts, cpuSeconds: Double, error: String?
    ) throws(PostgresError) -> Bool {
        let result = try connection.execute(
            """
            WITH run AS (
                UPDATE prescore.job_runs
                SET status = $3, finished_at = now(), rows_read = $4, rows_scored = $5, rows_written = $6,
                    rows_failed = $7, cpu_seconds = $8, error = $9, lease_owner = NULL, lease_expires_at = NULL
                WHERE job = $1 AND run_id = $2 AND status = 'running'
                RETURNING run_id
            )
            UPDATE prescore.job_run_attempts SET status = $3, finished_at = now(), error = $9
            WHERE job = $1 AND run_id IN (SELECT run_id FROM run) AND attempt = 1
            RETURNING attempt
            """,
            [job, String(runID), status.rawValue] + Self.figures(counts, cpuSeconds) + [error])
        return !result.rows.isEmpty
    }

    /// A process-owned run whose heartbeat lapsed.
    public struct LapsedRun: Sendable, Equatable {
        public var job: String
        public var runID: Int64
        /// `output.prefix` of the job when the run started: where its keys are.
        public var outputPrefix: String
        /// `prescore run@HOST:PID`.
        public var owner: String
    }

    /// Runs owned by a process whose lease lapsed (by PostgreSQL's clock), of `job` or of all.
    public func lapsedRuns(job: String? = nil) throws(PostgresError) -> [LapsedRun] {
        try connection.execute(
            """
            SELECT job, run_id, coalesce(output_prefix, 'prescore'), coalesce(lease_owner, 'prescore run')
            FROM prescore.job_runs
            WHERE status = 'running' AND lease_holder = 'process' AND lease_expires_at < now()
              AND ($1::text IS NULL OR job = $1)
            ORDER BY run_id
            """, [job]
        ).rows.compactMap { row in
            guard let job = row[0], let id = row[1].flatMap({ Int64($0) }) else { return nil }
            return LapsedRun(job: job, runID: id, outputPrefix: row[2] ?? "prescore", owner: row[3] ?? "")
        }
    }

    /// The ids under which the job's runs that may still write to Redis write: open runs, and the
    /// tokens of running attempts. A sweep of abandoned keys leaves these alone.
    public func liveRunIDs(job: String) throws(PostgresError) -> Set<Int64> {
        let rows = try connection.execute(
            """
            SELECT run_id FROM prescore.job_runs WHERE job = $1 AND status IN ('queued', 'running', 'retrying')
            UNION
            SELECT token FROM prescore.job_run_attempts WHERE job = $1 AND status = 'running'
            """, [job]
        ).rows
        return Set(rows.compactMap { $0[0].flatMap { Int64($0) } })
    }

    /// Records lapsed run `run` as `status` (`abandoned`, or `succeeded` when its process died
    /// after publishing) with `reason`, if its lease is still lapsed. Returns whether it did.
    @discardableResult
    public func closeLapsed(_ run: LapsedRun, status: RunStatus, reason: String) throws(PostgresError) -> Bool
    {
        try !connection.execute(
            """
            WITH run AS (
                UPDATE prescore.job_runs
                SET status = $3, finished_at = now(), error = $4, lease_owner = NULL, lease_expires_at = NULL
                WHERE job = $1 AND run_id = $2 AND status = 'running' AND lease_holder = 'process'
                  AND lease_expires_at < now()
                RETURNING run_id
            ),
            attempt AS (
                UPDATE prescore.job_run_attempts SET status = $5, finished_at = now(), error = $4
                WHERE job = $1 AND run_id IN (SELECT run_id FROM run) AND status = 'running'
            )
            SELECT run_id FROM run
            """,
            [
                run.job, String(run.runID), status.rawValue, reason,
                status == .succeeded ? "succeeded" : "abandoned",
            ]
        ).rows.isEmpty
    }

    private static func figures(_ counts: RunCounts, _ cpuSeconds: Double) -> [String?] {
        [
            String(counts.read), String(counts.scored), String(counts.written), String(counts.failed),
            String(cpuSeconds),
        ]
    }

    /// `ROLE@HOST:PID`: who ran an attempt, as the attempts table and `CLIENT LIST` show it.
    public static func instanceName(role: String) -> String {
        "\(role)@\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// The most recent runs, newest first, of one job or of all.
    public func recent(job: String?, limit: Int) throws(PostgresError) -> [RunRecord] {
        try records(
            """
            SELECT \(Self.columns) FROM prescore.job_runs
            WHERE $1::text IS NULL OR job = $1
            ORDER BY started_at DESC, run_id DESC
            LIMIT $2
            """,
            [job, String(limit)])
    }

    /// The latest run of every job that has one, by job name.
    public func latestByJob() throws(PostgresError) -> [String: RunRecord] {
        let latest = try records(
            """
            SELECT DISTINCT ON (job) \(Self.columns) FROM prescore.job_runs
            ORDER BY job, started_at DESC, run_id DESC
            """, [])
        return Dictionary(latest.map { ($0.job, $0) }) { first, _ in first }
    }

    private static func utc(_ column: String) -> String {
        "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    }

    private static let columns = """
        job, run_id, trigger, \(utc("scheduled_for")), \(utc("started_at")), \(utc("finished_at")), status,
        rows_read, rows_scored, rows_written, rows_failed, model_version, cpu_seconds, error, definition_hash,
        \(note)
        """

    /// What a reader should know of an open run that nobody works on.
    private static let note = """
        CASE
            WHEN status = 'queued' AND started_at < now() - interval '10 seconds' THEN
                'queued ' || (extract(epoch FROM now() - started_at)::bigint) || ' s ago and not claimed: '
                || 'is a prescore scheduler running?'
            WHEN status = 'running' AND lease_expires_at < now() AND lease_holder = 'scheduler' THEN
                'its scheduler ' || coalesce(lease_owner, '') || ' stopped renewing the lease; '
                || 'a running scheduler takes the run over'
        END
        """

    private func records(_ sql: String, _ parameters: [String?]) throws(PostgresError) -> [RunRecord] {
        let result = try connection.execute(sql, parameters)
        return result.rows.map { row in
            let number = { (index: Int) in row[index].flatMap { Int($0) } ?? 0 }
            return RunRecord(
                job: row[0] ?? "", runID: row[1].flatMap { Int64($0) } ?? 0, trigger: row[2] ?? "",
                scheduledFor: row[3], startedAt: row[4] ?? "", finishedAt: row[5], status: row[6] ?? "",
                counts: RunCounts(read: number(7), scored: number(8), written: number(9), failed: number(10)),
                modelVersion: row[11], cpuSeconds: row[12].flatMap { Double($0) }, error: row[13],
                definitionHash: row[14], note: row[15])
        }
    }
}
