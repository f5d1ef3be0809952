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
            try connection.run("SELECT pg_advisory_xact_lock(hashtextextended('prescore.job:' || \(job), 0))")
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
        try connection.run(
            """
            SELECT EXISTS (SELECT 1 FROM prescore.job_runs WHERE job = \(job) AND scheduled_for = \(time: scheduledFor)
                AND trigger IN ('schedule', 'catch-up'))
            """
        ).scalar == "t"
    }

    /// The job's open runs (queued, retrying or running), each with what its lease says at `now`.
    public func openRuns(job: String, now: Date) throws(PostgresError) -> [SlotConcurrency.OpenRun] {
        try connection.run(
            """
            SELECT run_id, CASE
                WHEN status IN ('queued', 'retrying') THEN 'waiting'
                WHEN lease_expires_at >= \(time: now) THEN 'running'
                WHEN lease_holder = 'scheduler' THEN 'awaitingTakeover'
                ELSE 'lapsed' END
            FROM prescore.job_runs WHERE job = \(job) AND status IN ('queued', 'running', 'retrying')
            ORDER BY run_id
            """
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
        try connection.run(
            """
            UPDATE prescore.job_runs
            SET status = 'cancelled', finished_at = \(time: now), error = \(reason),
                lease_owner = NULL, lease_expires_at = NULL
            WHERE job = \(job) AND run_id = ANY(\(Self.bigintArray(idle))::bigint[])
              AND status IN ('queued', 'running', 'retrying')
            """)
        try connection.run(
            """
            UPDATE prescore.job_runs SET cancel_requested = \(reason)
            WHERE job = \(job) AND run_id = ANY(\(Self.bigintArray(held))::bigint[]) AND status = 'running'
            """)
    }

    static func bigintArray(_ values: [Int64]) -> String {
        "{" + values.map(String.init).joined(separator: ",") + "}"
    }
}
