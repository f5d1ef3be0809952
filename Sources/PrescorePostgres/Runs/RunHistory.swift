import Foundation
import PrescoreCore

/// The run history, `prescore.job_runs`: a row when a run starts, updated when it ends.
public struct RunHistory: Sendable {
    public let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Records a new running run and returns its id (from `prescore.run_ids`, so later runs have
    /// higher ids) and its start in Unix seconds. `definition` is the job file's text; only its
    /// SHA-256 is stored, so a run can be matched to the definition that produced it.
    public func start(
        job: String, trigger: RunTrigger, scheduledFor unixSeconds: Int64? = nil, modelVersion: String,
        definition: String
    ) throws(PostgresError) -> (runID: Int64, startedAt: Int64) {
        let result = try connection.execute(
            """
            WITH id AS (SELECT nextval('prescore.run_ids') AS run_id),
            run AS (
                INSERT INTO prescore.job_runs
                    (job, run_id, trigger, scheduled_for, status, model_version, definition_hash, attempts,
                     lease_token)
                SELECT $1, run_id, $2, to_timestamp($3::bigint), 'running', $4,
                       encode(sha256(convert_to($5, 'UTF8')), 'hex'), 1, run_id
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
                RunHistory.instanceName(role: "prescore run"),
            ])
        guard let row = result.rows.first, let id = row[0].flatMap({ Int64($0) }),
            let started = row[1].flatMap({ Int64($0) })
        else {
            throw PostgresError(
                .protocolViolation, "INSERT … RETURNING gave no row", server: connection.server)
        }
        return (id, started)
    }

    /// Records how a run ended. `error` is the reason of a failed or cancelled run.
    public func finish(
        job: String, runID: Int64, status: RunStatus, counts: RunCounts, cpuSeconds: Double, error: String?
    ) throws(PostgresError) {
        try connection.execute(
            """
            WITH run AS (
                UPDATE prescore.job_runs
                SET status = $3, finished_at = now(), rows_read = $4, rows_scored = $5, rows_written = $6,
                    rows_failed = $7, cpu_seconds = $8, error = $9
                WHERE job = $1 AND run_id = $2
            )
            UPDATE prescore.job_run_attempts SET status = $3, finished_at = now(), error = $9
            WHERE job = $1 AND run_id = $2 AND attempt = 1
            """,
            [
                job, String(runID), status.rawValue, String(counts.read), String(counts.scored),
                String(counts.written), String(counts.failed), String(cpuSeconds), error,
            ])
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
        rows_read, rows_scored, rows_written, rows_failed, model_version, cpu_seconds, error
        """

    private func records(_ sql: String, _ parameters: [String?]) throws(PostgresError) -> [RunRecord] {
        let result = try connection.execute(sql, parameters)
        return result.rows.map { row in
            let number = { (index: Int) in row[index].flatMap { Int($0) } ?? 0 }
            return RunRecord(
                job: row[0] ?? "", runID: row[1].flatMap { Int64($0) } ?? 0, trigger: row[2] ?? "",
                scheduledFor: row[3], startedAt: row[4] ?? "", finishedAt: row[5], status: row[6] ?? "",
                counts: RunCounts(read: number(7), scored: number(8), written: number(9), failed: number(10)),
                modelVersion: row[11], cpuSeconds: row[12].flatMap { Double($0) }, error: row[13])
        }
    }
}
