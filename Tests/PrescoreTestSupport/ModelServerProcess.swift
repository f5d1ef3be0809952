import Foundation

/// Seldon MLServer serving an XGBoost JSON model on free loopback ports, as `make test` installs it
/// (`.run/mlserver-venv`; `PRESCORE_MLSERVER` names another `mlserver` executable).
public final class ModelServerProcess: Sendable {
    public let port: Int
    public let url: String
    private let process: Process
    private let folder: URL

    public static var executable: String {
        ProcessInfo.processInfo.environment["PRESCORE_MLSERVER"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".run/mlserver-venv/bin/mlserver").path
    }

    /// Serves `modelFile` as model `name`; throws when it is not ready within a minute.
    public init(modelFile: String, name: String) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw CocoaError(
                .fileNoSuchFile,
                userInfo: [
                    NSLocalizedDescriptionKey:
                        "no mlserver at \(Self.executable): run make test (it installs it)"
                ])
        }
        port = TestServers.closedPort()
        url = "http://127.0.0.1:\(port)"
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("mlserver-\(port)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: modelFile, toPath: folder.appendingPathComponent("model.json").path)
        let settings: [String: Any] = [
            "http_port": port, "grpc_port": TestServers.closedPort(),
            "metrics_port": TestServers.closedPort(),
            "host": "127.0.0.1", "parallel_workers": 0,
        ]
        try JSONSerialization.data(withJSONObject: settings).write(
            to: folder.appendingPathComponent("settings.json"))
        let model: [String: Any] = [
            "name": name, "implementation": "mlserver_xgboost.XGBoostModel",
            "parameters": ["uri": "./model.json"],
        ]
        try JSONSerialization.data(withJSONObject: model).write(
            to: folder.appendingPathComponent("model-settings.json"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["start", folder.path]
        process.currentDirectoryURL = folder
        let log = folder.appendingPathComponent("mlserver.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if RawHTTP.send(port: port, path: "/v2/models/\(name)/ready", timeout: 1)?.status == 200 {
                return
            }
            usleep(200_000)
        }
        stop()
        throw CocoaError(
            .fileReadUnknown,
            userInfo: [NSLocalizedDescriptionKey: "mlserver was not ready within 60 s: see \(log.path)"])
    }

    /// SIGKILL: the server inherits the test runner's blocked signals.
    public func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { stop() }
        try? FileManager.default.removeItem(at: folder)
    }
}
