/// The one error type of `PrescorePostgres`. Its message is one line a user can act on: the server
/// (password hidden), what failed, and what to check. It never holds query parameters.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The server could not be reached or refused the login.
        case connectionFailed
        /// A statement failed; `sqlState` says why (e.g. `42P01` undefined table).
        case queryFailed
        /// The connection broke while in use.
        case connectionLost
        /// The server answered with something this client did not expect.
        case protocolViolation
        /// The database's `prescore` schema is newer than this binary, or a migration failed.
        case migrationFailed
    }

    public var code: Code
    public var message: String
    /// The five-character SQLSTATE the server sent, when it sent one.
    public var sqlState: String?
    /// The server the connection was for, password hidden.
    public var server: String

    public init(_ code: Code, _ message: String, sqlState: String? = nil, server: String) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.server = server
    }

    /// The server refused the data itself (SQLSTATE classes 22 and 23: a bad value, a broken
    /// constraint): sending it again cannot succeed.
    public var isDataError: Bool {
        code == .queryFailed && (sqlState?.hasPrefix("22") == true || sqlState?.hasPrefix("23") == true)
    }

    public var description: String {
        switch code {
        case .connectionFailed:
            "cannot connect to PostgreSQL at \(server): \(message). Check that the server is running "
                + "(make services) and that DATABASE_URL or --database-url is right."
        case .connectionLost:
            "lost the connection to PostgreSQL at \(server): \(message)"
        default:
            "PostgreSQL at \(server): \(message)" + (sqlState.map { " (SQLSTATE \($0))" } ?? "")
        }
    }
}
