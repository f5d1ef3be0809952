extension PostgresConnection {
    /// Starts a read-only repeatable-read transaction: every later statement on this connection
    /// sees one consistent snapshot of the database, however long the batch read takes.
    public func beginSnapshot() throws(PostgresError) {
        try execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    }

    /// The planner's estimate of the rows `query` returns (from EXPLAIN; nothing runs). Good enough
    /// for sizing and an ETA, never for correctness: it can be off by far for complex queries.
    public func estimatedRows(_ query: String) throws(PostgresError) -> Int? {
        // Inside a savepoint: a failing EXPLAIN must not abort the transaction it runs in.
        try execute("SAVEPOINT prescore_estimate")
        let plan: PostgresResult
        do {
            plan = try execute("EXPLAIN \(query)")
            try execute("RELEASE SAVEPOINT prescore_estimate")
        } catch {
            _ = try? execute("ROLLBACK TO SAVEPOINT prescore_estimate")
            throw error
        }
        guard let line = plan.rows.first?[0], let range = line.range(of: " rows=") else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }
}
