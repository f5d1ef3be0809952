import Foundation
import PrescoreTestSupport

/// A `prescore serve` process on a port of its own, its output in a file.
struct ServeProcess {
    let process = Process()
    let port = TestServers.closedPort()
    let log: URL

    /// `databaseURL` / `redisURL` replace the fixture's (a proxy, a server of the test's own).
    /// Exposures spool under the fixture's folder (never the working directory); `environment`
    /// is added to the test's own.
    init(
        _ fixture: BatchRunFixture, databaseURL: String? = nil, redisURL: String? = nil, more: [String] = [],
        environment: [String: String] = [:], spool: URL? = nil
    ) throws {
        try self.init(
            jobs: fixture.folder.url, databaseURL: databaseURL ?? fixture.databaseURL,
            redisURL: redisURL ?? fixture.redisURL, more: more, environment: environment, spool: spool)
    }

    /// Serves the jobs of `jobs`, logging and spooling there.
    init(
        jobs: URL, databaseURL: String, redisURL: String, more: [String] = [],
        environment: [String: String] = [:],
        spool: URL? = nil
    ) throws {
        log = jobs.appendingPathComponent("serve-\(port).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.executableURL = PrescoreProcess.executable
        process.arguments =
            [
                "serve", "--port", String(port), "--jobs-dir", jobs.path, "--database-url", databaseURL,
                "--redis-url", redisURL, "--exposure-spool",
                (spool ?? jobs.appendingPathComponent("spool-\(port)")).path,
            ] + more
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    func get(_ path: String, timeout: Double = 5) -> RawHTTP.Response? {
        RawHTTP.send(port: port, path: path, timeout: timeout)
    }

    func post(_ path: String, _ body: String, headers: [String: String] = [:], timeout: Double = 5)
        -> RawHTTP.Response?
    {
        RawHTTP.send(
            port: port, method: "POST", path: path,
            headers: ["Content-Type": "application/json"].merging(headers) { $1 }, body: Array(body.utf8),
            timeout: timeout)
    }

    var spool: URL {
        URL(fileURLWithPath: process.arguments![process.arguments!.firstIndex(of: "--exposure-spool")! + 1])
    }

    /// The JSON object a response holds.
    static func object(_ response: RawHTTP.Response?) -> [String: Any] {
        guard let body = response?.body,
            let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        else { return [:] }
        return object
    }

    /// Polls `/readyz` until it answers 200 (up to `seconds`).
    func waitReady(seconds: Double = 20) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if get("/readyz", timeout: 2)?.status == 200 { return true }
            usleep(100_000)
        }
        return false
    }

    func stop(_ signal: Int32 = SIGTERM) -> Int32 {
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }
}
