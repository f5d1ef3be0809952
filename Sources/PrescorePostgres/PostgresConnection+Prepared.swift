import CLibPQ

extension PostgresConnection {
    /// Prepares `sql` under `name` on this connection (the server parses and plans it once).
    public func prepare(_ name: String, _ sql: String) throws(PostgresError) {
        try handle.withLock { connection throws(PostgresError) in
            let result = PQprepare(connection, name, sql, 0, nil)
            defer { PQclear(result) }
            try check(result, connection: connection)
        }
    }

    /// Runs the statement prepared as `name` with text parameters and reads the whole result.
    /// Parameters are bound by the server: a value is never part of the statement's text.
    public func executePrepared(_ name: String, _ parameters: [String?]) throws(PostgresError)
        -> PostgresResult
    {
        try handle.withLock { connection throws(PostgresError) in
            let result = Self.withOptionalCStrings(parameters) { values in
                PQexecPrepared(connection, name, Int32(parameters.count), values, nil, nil, 0)
            }
            defer { PQclear(result) }
            try check(result, connection: connection)
            return Self.read(result!)
        }
    }
}
