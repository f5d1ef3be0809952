import ArgumentParser
import Foundation
import PrescoreCore

/// The batch run through Seldon MLServer (`model: {kind: remote}`) beside the same run with the
/// model in-process, on the first N demo users: entities/s of each and the ratio. MLServer runs
/// on this machine too, sharing its 2 cores.
struct RemoteBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote",
        abstract: "A batch run through MLServer versus in-process: entities/s and the ratio.")

    @Option(help: "Entities (the first N demo users).") var entities = 100_000
    @Option(help: "The prescore executable to run.") var prescore: String = ".build/release/prescore"
    @Option(help: "The mlserver executable.") var mlserver: String = ".run/mlserver-venv/bin/mlserver"
    @Option(name: .customLong("work-dir"), help: "Where the job files and MLServer's settings go.")
    var workDirectory: String
    @Option(help: "Requests in flight to MLServer.") var concurrency = 4
    @Option(name: .customLong("batch-size"), help: "Rows a request carries.") var batchSize = 1_024

    /// The demo model's features, in its order: the input tensor's columns.
    static func features() throws -> [String] {
        let file = "jobs/models/fraud_risk.json"
        return try XGBoostModel(json: Data(contentsOf: URL(fileURLWithPath: file)), source: file).featureNames
            ?? []
    }

    func run() throws {
        let port = 18_190
        let server = try startMLServer(port: port)
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let model = FileManager.default.currentDirectoryPath + "/jobs/models/fraud_risk.json"
        let features = try Self.features().joined(separator: ", ")
        let source =
            "SELECT user_id AS key, \(features) FROM demo.users WHERE user_id <= \(entities)"
        let remote = """
            {kind: remote, url: "http://127.0.0.1:\(port)", name: fraud_risk, features: [\(features)], \
            output: {name: predict}, batch_size: \(batchSize), concurrency: \(concurrency), timeout: 30s}
            """
        var seconds: [String: Double] = [:]
        for (job, spec) in [
            ("bench_local", "{kind: xgboost-json, path: \(model), version: v1}"), ("bench_remote", remote),
        ] {
            try """
            name: \(job)
            schedule: "@daily"
            model: \(spec)
            source: {query: "\(source)"}
            output: {prefix: prescore-bench-remote, keep_runs: 1}
            guards: {max_drop_fraction: 1}
            """.write(toFile: workDirectory + "/\(job).yaml", atomically: true, encoding: .utf8)
            let start = ContinuousClock.now
            let summary = try BenchSupport.run(prescore, ["run", job, "--jobs-dir", workDirectory])
            seconds[job] = (ContinuousClock.now - start).totalSeconds
            guard summary.contains("\(entities) written") else {
                throw ValidationError("\(job) did not write \(entities) scores: \(summary)")
            }
        }
        let local = Double(entities) / seconds["bench_local"]!
        let through = Double(entities) / seconds["bench_remote"]!
        print(
            """

            remote-model benchmark: \(entities) demo entities, the demo XGBoost model, 2 cores shared with MLServer
              in-process:            \(String(format: "%.0f", local)) entities/s
              through MLServer 1.7:  \(String(format: "%.0f", through)) entities/s (batch_size \(batchSize), concurrency \(concurrency))
              ratio MLServer / in-process: \(String(format: "%.3f", through / local))
            """)
    }

    private func startMLServer(port: Int) throws -> Process {
        let folder = workDirectory + "/mlserver"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: folder + "/model.json")
        try FileManager.default.copyItem(
            atPath: "jobs/models/fraud_risk.json", toPath: folder + "/model.json")
        try """
        {"http_port": \(port), "grpc_port": \(port + 1), "metrics_port": \(port + 2), "host": "127.0.0.1", "parallel_workers": 0}
        """.write(toFile: folder + "/settings.json", atomically: true, encoding: .utf8)
        try """
        {"name": "fraud_risk", "implementation": "mlserver_xgboost.XGBoostModel", "parameters": {"uri": "./model.json"}}
        """.write(toFile: folder + "/model-settings.json", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mlserver).absoluteURL
        process.arguments = ["start", "."]
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        for _ in 0..<600 {
            if (try? BenchSupport.run(
                "curl", ["-sf", "http://127.0.0.1:\(port)/v2/models/fraud_risk/ready"], discardOutput: true))
                != nil
            {
                return process
            }
            usleep(100_000)
        }
        process.terminate()
        throw ValidationError("MLServer was not ready within 60 s")
    }
}
