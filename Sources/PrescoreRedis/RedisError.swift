/// The one error type of `PrescoreRedis`: one line naming the server (password hidden), what failed
/// and what to check.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// `REDIS_URL` is not a valid `redis://` URL.
        case invalidURL
        /// The server could not be reached, or refused AUTH or SELECT.
        case connectionFailed
        /// The connection broke while in use (server gone, timeout, CLIENT KILL).
        case connectionLost
        /// The server answered a command with an error reply.
        case commandFailed
        /// What was asked cannot be done in the current state (a rollback to a run no longer kept).
        case refused
    }

    public var code: Code
    public var message: String
    public var server: String

    public init(_ code: Code, _ message: String, server: String) {
        self.code = code
        self.message = message
        self.server = server
    }

    public var description: String {
        switch code {
        case .invalidURL:
            "invalid Redis URL \(server): \(message)"
        case .connectionFailed:
            "cannot connect to Redis at \(server): \(message). Check that the server is running "
                + "(make services) and that REDIS_URL or --redis-url is right."
        case .connectionLost:
            "lost the connection to Redis at \(server): \(message)"
        case .commandFailed, .refused:
            "Redis at \(server): \(message)"
        }
    }
}
