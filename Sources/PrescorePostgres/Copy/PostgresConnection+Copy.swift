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

extension PostgresConnection {
    /// Runs `COPY target FROM STDIN` with `data`, rows in COPY's text format (see `CopyText`),
    /// and returns the rows the server took. One statement: all rows are written or none.
    @discardableResult
    public func copyIn(_ target: String, _ data: [UInt8]) throws(PostgresError) -> Int {
        try handle.withLock { connection throws(PostgresError) in
            let started = PQexec(connection, "COPY \(target) FROM STDIN")
            defer { PQclear(started) }
            guard PQresultStatus(started) == PGRES_COPY_IN else {
                try check(started, connection: connection)
                throw PostgresError(.protocolViolation, "COPY did not start", server: server)
            }
            // Chunks of 1 MiB: libpq copies each into its output buffer.
            var offset = 0
            var sent = true
            while sent, offset < data.count {
                let end = min(data.count, offset + 1 << 20)
                sent = data[offset..<end].withUnsafeBufferPointer { chunk in
                    chunk.withMemoryRebound(to: CChar.self) {
                        PQputCopyData(connection, $0.baseAddress, Int32($0.count)) == 1
                    }
                }
                offset = end
            }
            guard sent, PQputCopyEnd(connection, nil) == 1 else {
                throw PostgresError(.connectionLost, Self.oneLine(PQerrorMessage(connection)), server: server)
            }
            var firstError: PostgresError?
            var rows = 0
            while let result = PQgetResult(connection) {
                defer { PQclear(result) }
                do throws(PostgresError) {
                    try check(result, connection: connection)
                    rows = Int(String(cString: PQcmdTuples(result))) ?? rows
                } catch {
                    firstError = firstError ?? error
                }
            }
            if let firstError { throw firstError }
            return rows
        }
    }
}

/// Rows in COPY's text format: fields separated by tabs, rows ended by a newline, `\N` for NULL,
/// and backslash, tab, newline and carriage return escaped, so any text value arrives as it was.
public struct CopyText: Sendable {
    public private(set) var bytes: [UInt8] = []
    public private(set) var rows = 0
    private var fieldsInRow = 0

    public init() {}

    public mutating func append(_ text: String?) {
        separate()
        guard let text else {
            bytes += [UInt8(ascii: "\\"), UInt8(ascii: "N")]
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\t"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case UInt8(ascii: "\n"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            default: bytes.append(byte)
            }
        }
    }

    /// A number as its shortest round-trip text (NaN and infinities as PostgreSQL spells them).
    public mutating func append(_ value: Double) {
        append(value.isNaN ? "NaN" : value.isInfinite ? (value > 0 ? "Infinity" : "-Infinity") : "\(value)")
    }

    public mutating func append(_ value: Int) { append(String(value)) }

    public mutating func endRow() {
        bytes.append(UInt8(ascii: "\n"))
        rows += 1
        fieldsInRow = 0
    }

    private mutating func separate() {
        if fieldsInRow > 0 { bytes.append(UInt8(ascii: "\t")) }
        fieldsInRow += 1
    }
}
