import Foundation

/// A throwaway `redis-server` on a free loopback port, for a test that needs settings of its own
/// (a small `maxmemory`) without touching the shared server.
public final class RedisServerProcess: Sendable {
    public let url: String
    public let port: Int
    private let process: Process

    /// `port`: a free one by default; a test restarting "the same" server passes the old one's.
    public init(arguments: [String] = [], port: Int = TestServers.closedPort()) throws {
        self.port = port
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments =
            ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"] + arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        self.process = process
        url = "redis://127.0.0.1:\(port)/0"
        // Ready when it accepts a connection (polling, up to 10 s).
        for _ in 0..<200 {
            if let fd = LoopbackSocket.connect(port: port) {
                close(fd)
                return
            }
            usleep(50_000)
        }
    }

    /// SIGKILL, not SIGTERM: the server inherits the test runner's blocked signals, so it would
    /// never see a SIGTERM; it holds no data worth a clean shutdown.
    public func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
