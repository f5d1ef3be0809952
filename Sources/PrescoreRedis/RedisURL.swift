import Foundation

/// `redis://[[user]:password@]host[:port][/db]`, the form Redis' own clients accept. A user name
/// selects an ACL user (Redis 6+); a password alone authenticates the default user.
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String?
    public var password: String?
    public var database: Int

    public init(
        host: String = "127.0.0.1", port: Int = 6379, user: String? = nil, password: String? = nil,
        database: Int = 0
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
    }

    public init(_ text: String) throws(RedisError) {
        let shown = Self.redact(text)
        func fail(_ why: String) -> RedisError { RedisError(.invalidURL, why, server: shown) }
        guard let components = URLComponents(string: text), components.scheme == "redis" else {
            throw fail("expected redis://[[user]:password@]host[:port][/db]")
        }
        guard let host = components.host, !host.isEmpty else { throw fail("the host is missing") }
        self.host = host
        self.port = components.port ?? 6379
        guard (1...65_535).contains(port) else { throw fail("port \(port) is out of range") }
        let user = components.percentEncodedUser.flatMap { $0.removingPercentEncoding }
        self.user = (user?.isEmpty ?? true) ? nil : user
        self.password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if path.isEmpty {
            database = 0
        } else if let number = Int(path), number >= 0 {
            database = number
        } else {
            throw fail("'/\(path)' is not a database number")
        }
        if self.user != nil, password == nil {
            throw fail("a user name needs a password (redis://user:password@host)")
        }
    }

    /// The URL with the password shown as `***`, for messages and logs.
    public var description: String {
        let credentials: String
        switch (user, password) {
        case (let user?, _?): credentials = "\(user):***@"
        case (nil, _?): credentials = ":***@"
        default: credentials = ""
        }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "redis://\(credentials)\(shownHost):\(port)/\(database)"
    }

    /// How a URL that failed to parse is shown: scheme, user, host and port where they can be
    /// told apart, never the rest (a password, or text that may be one).
    static func redact(_ text: String) -> String {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            let host = components.host, !host.isEmpty
        else { return "(a URL that does not parse; not shown, since it may hold a password)" }
        let user = components.user.map { "\($0)@" } ?? ""
        return "\(scheme)://\(user)\(host)" + (components.port.map { ":\($0)" } ?? "")
    }
}
