import CLibPQ

extension PostgresConnection {
    /// Runs `COPY (query) TO STDOUT (FORMAT binary)` and hands the bytes to `body` as they arrive,
    /// never holding the whole result: memory stays bounded whatever the row count.
    ///
    /// When `body` throws, the COPY is cancelled on the server and drained, so the connection stays
    /// usable, and the error is rethrown. A broken connection throws `PostgresError.connectionLost`.
    public func copyOut(_ query: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try handle.withLock { connection in
            let started = PQexec(connection, "COPY (\(query)) TO STDOUT (FORMAT binary)")
            defer { PQclear(started) }
            guard PQresultStatus(started) == PGRES_COPY_OUT else {
                try check(started, connection: connection)
                throw PostgresError(.protocolViolation, "COPY did not start", server: server)
            }
            var failure: (any Error)?
            while true {
                var buffer: UnsafeMutablePointer<CChar>?
                let length = PQgetCopyData(connection, &buffer, 0)
                if length > 0, let buffer {
                    defer { PQfreemem(buffer) }
                    if failure == nil {
                        do {
                            try body(UnsafeRawBufferPointer(start: buffer, count: Int(length)))
                        } catch {
                            failure = error
                            cancelCurrentStatement()
                        }
                    }
                } else {
                    break  // -1: done (or cancelled); -2: broken, reported by the final result
                }
            }
            // The COPY's own status; then read results until none is left, as libpq requires.
            var finalError: PostgresError?
            while let result = PQgetResult(connection) {
                defer { PQclear(result) }
                do throws(PostgresError) {
                    try check(result, connection: connection)
                } catch {
                    finalError = finalError ?? error
                }
            }
            if let failure { throw failure }
            if PQstatus(connection) != CONNECTION_OK {
                throw PostgresError(.connectionLost, Self.oneLine(PQerrorMessage(connection)), server: server)
            }
            if let finalError { throw finalError }
        }
    }
}
