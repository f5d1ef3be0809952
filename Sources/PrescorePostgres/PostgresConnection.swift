import CLibPQ
import Foundation
import Glibc
import Synchronization

/// One libpq connection. Every call blocks the calling thread until the server answers, so callers
/// in async code run it on a dedicated thread pool, never on Swift's cooperative pool or an event loop.
///
/// The `PGconn` pointer never leaves this type; the mutex makes one call at a time use it, which is
/// also what libpq requires of a connection.
public final class PostgresConnection: Sendable {
    // Internal, not private, so the `PostgresConnection+…` extensions can use it; never public.
    let handle: Mutex<OpaquePointer>
    /// libpq's cancel request (`PGcancel`), made once at connect: unlike the connection, it may be
    /// used from another thread while a statement runs, which is how a long COPY is stopped.
    private let cancelRequest: Mutex<OpaquePointer?>
    /// The server, password hidden, for messages.
    public let server: String
    /// With a deadline, `execute` waits at most this long for an answer, then gives the connection
    /// up as lost: a server (or a proxy on the way) that stopped answering cannot hang the caller.
    public let deadline: Duration?
    private let health = Mutex(Health())

    private struct Health {
        /// Set when a statement outlived `deadline`: the connection's state is unknown.
        var broken = false
        /// The first error of the open transaction: what a later "current transaction is
        /// aborted" (25P02) reports instead of itself.
        var transactionFailure: PostgresError?
    }

    /// How long a connection attempt may take when the URL does not say (`connect_timeout`).
    public static let defaultConnectTimeoutSeconds = 10

    /// TCP keepalives and a user timeout, so that a peer that vanished (a host down, a network
    /// cut) is noticed within about a minute instead of never. A URL that sets any of them wins.
    static let keepaliveSettings = [
        ("keepalives", "1"), ("keepalives_idle", "30"), ("keepalives_interval", "10"),
        ("keepalives_count", "3"), ("tcp_user_timeout", "60000"),
    ]

    /// Connects with a libpq connection string: a URI (`postgresql://user:pw@host:port/db?sslmode=…`)
    /// or `key=value` pairs, so that everything psql accepts works here too. With `deadline`, every
    /// `execute` gets that long to answer (and the server's `statement_timeout` and
    /// `idle_in_transaction_session_timeout` are set to it).
    public init(url: String, applicationName: String = "prescore", deadline: Duration? = nil)
        throws(PostgresError)
    {
        server = ConnectionURL.redacted(url)
        self.deadline = deadline
        // Listed first so that settings in the URL itself (expanded from dbname) win. With a
        // deadline, connecting gets no longer than a statement would (libpq's minimum is 2 s):
        // a scheduler loop reconnecting through a frozen network must keep ticking.
        let connectTimeout =
            deadline.map { max(2, Int(($0.totalSeconds).rounded(.up))) } ?? Self.defaultConnectTimeoutSeconds
        let defaults =
            [
                ("connect_timeout", String(connectTimeout)),
                ("fallback_application_name", applicationName),
            ]
            + Self.keepaliveSettings
        let keywords = defaults.map(\.0) + ["dbname"]
        let values = defaults.map(\.1) + [url]
        let connection = Self.withCStrings(keywords) { keywords in
            Self.withCStrings(values) { values in PQconnectdbParams(keywords, values, 1) }
        }
        guard let connection else {
            throw PostgresError(.connectionFailed, "out of memory", server: server)
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            var message = Self.oneLine(PQerrorMessage(connection))
            // libpq quotes a URI it cannot parse, password and all: keep only what precedes it.
            if server == ConnectionURL.unparsable, let quote = message.firstIndex(of: "\"") {
                message =
                    "the connection string does not parse ("
                    + message[..<quote]
                    .trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: ":"))) + ")"
            }
            PQfinish(connection)
            throw PostgresError(.connectionFailed, message, server: server)
        }
        // Without this, libpq prints NOTICEs (e.g. "schema already exists") to stderr.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        // A separate libpq object, not part of the connection's state: safe to hand to its own mutex.
        nonisolated(unsafe) let request = PQgetCancel(connection)
        cancelRequest = Mutex(request)
        handle = Mutex(connection)
        if let deadline {
            // The server ends a statement at the deadline, and a transaction whose client went
            // silent within it (a frozen network): otherwise its locks, such as a job's planning
            // lock, would be held until the server's TCP keepalive gave up, hours by default.
            let milliseconds = max(1, deadline.totalMilliseconds)
            try execute(
                "SET statement_timeout = \(milliseconds); SET idle_in_transaction_session_timeout = \(milliseconds)"
            )
        }
    }

    deinit {
        cancelRequest.withLock { if let request = $0 { PQfreeCancel(request) } }
        handle.withLock { PQfinish($0) }
    }

    /// Asks the server to stop the statement this connection is running, from any thread (the
    /// connection itself is busy with it). The statement then fails with SQLSTATE 57014; when none
    /// runs, nothing happens.
    public func cancelCurrentStatement() {
        cancelRequest.withLock { request in
            guard let request else { return }
            var message = [CChar](repeating: 0, count: 256)
            _ = PQcancel(request, &message, Int32(message.count))
        }
    }

    /// Runs one statement with text parameters (`$1`, `$2`, …; `nil` is NULL) and reads the whole
    /// result. For statements with small results; several statements without parameters may be
    /// joined with `;`.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> PostgresResult {
        try handle.withLock { connection throws(PostgresError) in
            guard !health.withLock({ $0.broken }) else {
                throw PostgresError(
                    .connectionLost, "an earlier statement got no answer in time", server: server)
            }
            let result: OpaquePointer?
            if let deadline {
                result = try send(sql, parameters, on: connection, within: deadline)
            } else if parameters.isEmpty {
                result = PQexec(connection, sql)
            } else {
                result = Self.withOptionalCStrings(parameters) { values in
                    PQexecParams(connection, sql, Int32(parameters.count), nil, values, nil, nil, 0)
                }
            }
            defer { PQclear(result) }
            try check(result, connection: connection)
            return Self.read(result!)
        }
    }

    /// Sends `sql` and waits for its results at most `deadline`; past it, the connection is given
    /// up (nothing is cancelled: a cancel request would connect through the same silent path).
    private func send(
        _ sql: String, _ parameters: [String?], on connection: OpaquePointer, within deadline: Duration
    ) throws(PostgresError) -> OpaquePointer? {
        let sent =
            parameters.isEmpty
            ? PQsendQuery(connection, sql)
            : Self.withOptionalCStrings(parameters) { values in
                PQsendQueryParams(connection, sql, Int32(parameters.count), nil, values, nil, nil, 0)
            }
        guard sent == 1 else {
            throw PostgresError(.connectionLost, Self.oneLine(PQerrorMessage(connection)), server: server)
        }
        let end = ContinuousClock.now + deadline
        var kept: OpaquePointer?
        while true {
            while PQisBusy(connection) == 1 {
                let left = end - ContinuousClock.now
                var socket = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
                let ready = left > .zero ? poll(&socket, 1, Int32(max(1, left.totalMilliseconds))) : 0
                if ready == 0 {
                    PQclear(kept)
                    health.withLock { $0.broken = true }
                    throw PostgresError(
                        .connectionLost, "no answer within \(deadline.totalMilliseconds) ms", server: server)
                }
                guard ready > 0 || errno == EINTR, PQconsumeInput(connection) == 1 || ready < 0 else {
                    PQclear(kept)
                    throw PostgresError(
                        .connectionLost, Self.oneLine(PQerrorMessage(connection)), server: server)
                }
            }
            guard let next = PQgetResult(connection) else { return kept }
            // As PQexec: the last result, unless an earlier one was an error.
            if let kept, Self.isError(kept) {
                PQclear(next)
            } else {
                PQclear(kept)
                kept = next
            }
        }
    }

    private static func isError(_ result: OpaquePointer) -> Bool {
        let status = PQresultStatus(result)
        return status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY
    }

    /// The columns `sql` would return and how many parameters it takes, learned by preparing it
    /// (the server plans the statement but runs nothing).
    public func describe(_ sql: String) throws(PostgresError) -> (
        columns: [PostgresColumn], parameterCount: Int
    ) {
        try handle.withLock { connection throws(PostgresError) in
            let prepared = PQprepare(connection, "", sql, 0, nil)
            defer { PQclear(prepared) }
            try check(prepared, connection: connection)
            let description = PQdescribePrepared(connection, "")
            defer { PQclear(description) }
            try check(description, connection: connection)
            let columns = (0..<PQnfields(description)).map { index in
                PostgresColumn(
                    name: String(cString: PQfname(description, index)),
                    typeOID: UInt32(PQftype(description, index)))
            }
            return (columns, Int(PQnparams(description)))
        }
    }

    /// Whether the connection is still usable, as far as libpq knows without a round trip.
    public var isHealthy: Bool {
        handle.withLock { PQstatus($0) == CONNECTION_OK } && !health.withLock { $0.broken }
    }

    func check(_ result: OpaquePointer?, connection: OpaquePointer) throws(PostgresError) {
        let status = result.map(PQresultStatus) ?? PGRES_FATAL_ERROR
        switch status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            if PQtransactionStatus(connection) != PQTRANS_INERROR {
                health.withLock { $0.transactionFailure = nil }
            }
            return
        default:
            guard let result, PQstatus(connection) == CONNECTION_OK else {
                throw PostgresError(.connectionLost, Self.oneLine(PQerrorMessage(connection)), server: server)
            }
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
            let error = PostgresError(
                .queryFailed, primary ?? Self.oneLine(PQresultErrorMessage(result)), sqlState: state,
                server: server)
            // "current transaction is aborted" says nothing a user can act on: report what
            // aborted it. The first error of a transaction is kept until it ends.
            let first = health.withLock { health -> PostgresError? in
                if PQtransactionStatus(connection) != PQTRANS_INERROR {
                    health.transactionFailure = nil
                    return nil
                }
                if health.transactionFailure == nil { health.transactionFailure = error }
                return health.transactionFailure
            }
            if state == "25P02", let first { throw first }
            throw error
        }
    }

    static func read(_ result: OpaquePointer) -> PostgresResult {
        let columnCount = PQnfields(result)
        let columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
        let rows = (0..<PQntuples(result)).map { row in
            (0..<columnCount).map { column -> String? in
                PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
            }
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresResult(columns: columns, rows: rows, affectedRows: affected)
    }

    /// libpq's messages end in a newline and may span lines; messages here are one line.
    static func oneLine(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "unknown error" }
        let text = String(cString: message)
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingPrefix(while: \.isWhitespace) }
            .joined(separator: " ")
        return text.isEmpty ? "unknown error" : text
    }

    private static func withCStrings<R>(
        _ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R
    ) -> R {
        withOptionalCStrings(strings) { body($0) }
    }

    static func withOptionalCStrings<R>(
        _ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R
    ) -> R {
        let copies = strings.map { $0.map { UnsafePointer(strdup($0)!) } } + [nil]
        defer { for copy in copies { free(UnsafeMutablePointer(mutating: copy)) } }
        return copies.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
