import Foundation
import PrescoreCore

/// A slot's `concurrency` decision, performed: under the job's lock, in one transaction, by the
/// instance that records the slot (`SlotConcurrency` decides).
extension RunLedger {
    /// Runs `body` in a transaction holding the job's advisory lock: every instance's slot decisions
    /// for one job are taken one after another, each seeing what the one before committed.
    public func withJobLock<R>(_ job: String, _ body: () throws(PostgresError) -> R) throws(PostgresError)
        -> R
    {
        try connection.execute("BEGIN")
        do {
            try connection.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('prescore.job:' || $1, 0))", [job])
            let result = try body()
            try connection.execute("COMMIT")
            return result
        } catch {
            _ = try? connection.execute("ROLLBACK")
            throw error
        }
    }

    /// Whether the slot already has its row (another instance recorded it first).
    public func slotExists(job: String, scheduledFor: Date) throws(PostgresError) -> Bool {
        try connection.execute(
            """
            SELECT EXISTS (SELECT 1 FROM prescore.job_runs WHERE job = $1 AND scheduled_for = to_timestamp($2::float8)
                AND trigger IN ('schedule', 'catch-up'))
            """, [job, Self.seconds(scheduledFor)]
        ).scalar == "t"
    }

    /// The job's open runs (queued, retrying or running), each with what its lease says at `now`.
    public func openRuns(job: String, now: Date) throws(PostgresError) -> [SlotConcurrency.OpenRun] {
        try connection.execute(
            """
            SELECT run_id, CASE
                WHEN status IN ('queued', 'retrying') THEN 'waiting'
                WHEN lease_expires_at >= to_timestamp($2::float8) THEN 'running'
                WHEN lease_holder = 'scheduler' THEN 'awaitingTakeover'
                ELSE 'lapsed' END
            FROM prescore.job_runs WHERE job = $1 AND status IN ('queued', 'running', 'retrying')
            ORDER BY run_id
            """, [job, Self.seconds(now)]
        ).rows.compactMap { row in
            guard let id = row[0].flatMap({ Int64($0) }) else { return nil }
            let state: SlotConcurrency.OpenRun.State =
                switch row[1] {
                case "waiting": .waiting
                case "running": .running
                case "awaitingTakeover": .awaitingTakeover
                default: .lapsed
                }
            return SlotConcurrency.OpenRun(runID: id, state: state)
        }
    }

    /// `concurrency: replace`: records the `idle` runs cancelled, and asks the holders of the `held`
    /// ones to cancel (their next renewal or heartbeat sees `cancel_requested`).
    public func cancel(idle: [Int64], held: [Int64], job: String, reason: String, now: Date)
        throws(PostgresError)
    {
        try connection.execute(
            """
            UPDATE prescore.job_runs
            SET status = 'cancelled', finished_at = to_timestamp($3::float8), error = $4,
                lease_owner = NULL, lease_expires_at = NULL
            WHERE job = $1 AND run_id = ANY($2::bigint[]) AND status IN ('queued', 'running', 'retrying')
            """, [job, Self.bigintArray(idle), Self.seconds(now), reason])
        try connection.execute(
            """
            UPDATE prescore.job_runs SET cancel_requested = $3
            WHERE job = $1 AND run_id = ANY($2::bigint[]) AND status = 'running'
            """, [job, Self.bigintArray(held), reason])
    }

    static func bigintArray(_ values: [Int64]) -> String {
        "{" + values.map(String.init).joined(separator: ",") + "}"
    }
}
