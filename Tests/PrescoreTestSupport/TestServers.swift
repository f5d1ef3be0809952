import Foundation
import PrescorePostgres

/// The servers integration tests use: `DATABASE_URL` and `REDIS_URL` as `make test` exports them,
/// else the addresses `make services` starts.
public enum TestServers {
    public static var databaseURL: String {
        ProcessInfo.processInfo.environment["DATABASE_URL"]
            ?? "postgresql://prescore:prescore-dev@127.0.0.1:55432/prescore"
    }

    public static var redisURL: String {
        ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:56379/0"
    }

    /// A name no other test (or test run) uses, for databases, key prefixes and users.
    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(ProcessInfo.processInfo.processIdentifier)_\(UInt32.random(in: 0...UInt32.max))"
    }

    /// `databaseURL` pointing at another database on the same server.
    public static func databaseURL(database: String) -> String {
        var components = URLComponents(string: databaseURL)!
        components.path = "/\(database)"
        return components.string!
    }

    /// Runs `body` with the URL of a new, empty database, dropped afterwards: for tests that create
    /// schemas, migrate, or kill connections without disturbing tests running beside them.
    public static func withTemporaryDatabase<R>(_ body: (String) throws -> R) throws -> R {
        let name = uniqueName("prescore_test")
        let admin = try PostgresConnection(url: databaseURL)
        try admin.execute("CREATE DATABASE \(name)")
        defer { _ = try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        return try body(databaseURL(database: name))
    }

    /// A loopback port nothing listens on (bound once, then released).
    public static func closedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length)
                return getsockname(fd, pointer, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
