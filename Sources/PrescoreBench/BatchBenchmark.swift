import ArgumentParser
import Foundation
import PrescoreCore
import PrescoreRedis

/// A whole batch run (`prescore run`, release build) over the demo data, against the two physical
/// limits measured in the same run on the same data: PostgreSQL's own binary COPY of the source
/// query, and redis-benchmark's pipelined SET of one key per entity.
struct BatchBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "End-to-end batch run: entities/s, peak RSS and Redis bytes per score, versus the limits.")

    @Option(help: "Entities in demo.users (seeded beforehand).") var entities: Int = 1_000_000
    @Option(help: "The prescore executable to run.") var prescore: String = ".build/release/prescore"
    @Option(help: "psql, for PostgreSQL's COPY limit.") var psql: String = "psql"
    @Option(name: .customLong("redis-benchmark"), help: "redis-benchmark, for Redis' SET limit.")
    var redisBenchmark: String = "redis-benchmark"
    @Option(name: .customLong("work-dir"), help: "Where the bench job file goes.") var workDirectory: String
    @Option(
        name: .customLong("repeat"), help: "Timed repetitions of the run and of each limit; the best counts.")
    var repetitions: Int = 3

    static let job = "bench_fraud_risk"
    static let prefix = "prescore-bench"

    func run() throws {
        let redisURL = try RedisURL(
            ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:56379/0")
        let redis = try RedisConnection(url: redisURL, timeout: .seconds(120))
        let jobsDirectory = try writeJob()
        let source = try Self.sourceQuery()

        // The runs first, so that the peak RSS of this process' children is a run's. The first run
        // starts from no bench keys and gives the memory figure; the later ones also remove the run
        // before them (`keep_runs: 1`). Each side counts its best of `repetitions`: this VM's
        // timings move by a third from one repetition to the next (measured), and the limits get
        // the same chance.
        try Self.removeBenchKeys(redis)
        let before = try Self.usedMemory(redis)
        var summary = ""
        var bytesPerScore = Double.nan
        let seconds = try BenchSupport.bestSeconds(repetitions: repetitions) {
            summary = try BenchSupport.run(prescore, ["run", Self.job, "--jobs-dir", jobsDirectory])
            guard summary.contains("\(entities) written") else {
                throw ValidationError("the run did not write \(entities) scores: \(summary)")
            }
            if bytesPerScore.isNaN {
                bytesPerScore = Double(try Self.usedMemory(redis) - before) / Double(entities)
            }
        }
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        let peakMegabytes = Double(usage.ru_maxrss) / 1024  // kilobytes on Linux

        let copySeconds = try BenchSupport.bestSeconds(repetitions: repetitions) {
            try BenchSupport.run(
                psql, [BenchSupport.databaseURL, "-qc", "COPY (\(source)) TO STDOUT (FORMAT binary)"],
                discardOutput: true)
        }
        let redisRate = try (0..<repetitions).map { _ in try redisSetRate(redisURL) }.max() ?? .nan
        try Self.flushBenchmarkDatabase(redisURL)

        let ours = Double(entities) / seconds
        let copyRate = Double(entities) / copySeconds
        let slower = min(copyRate, redisRate)
        func rate(_ value: Double) -> String { String(format: "%.2fM", value / 1e6) }
        func verdict(_ ok: Bool) -> String { ok ? "ok" : "MISSED" }
        // Issue 14: three quarters of the slower limit at 1,000,000 entities, 0.6 at 10,000,000
        // (the longer run also fills Redis past what its first million cost).
        let share = entities > 1_000_000 ? 0.6 : 0.75
        print(
            """

            batch benchmark: \(entities) demo entities, 16 features, 160-tree XGBoost model, 2 cores
              prescore run (whole process, best of \(repetitions)): \(rate(ours)) entities/s (\(String(format: "%.2f", seconds)) s)
                last: \(summary.trimmingCharacters(in: .whitespacesAndNewlines))
              limit: PostgreSQL COPY binary:       \(rate(copyRate)) rows/s   ratio \(String(format: "%.2f", ours / copyRate))
              limit: redis-benchmark SET -P 64:    \(rate(redisRate)) keys/s   ratio \(String(format: "%.2f", ours / redisRate))
              ratio to the slower limit: \(String(format: "%.2f", ours / slower)) \
            (target >= \(String(format: "%.2f", share)), \(rate(slower * share))/s): \(verdict(ours >= slower * share))
              peak RSS of the run: \(String(format: "%.0f", peakMegabytes)) MB (target <= 200 MB): \(verdict(peakMegabytes <= 200))
              Redis memory: \(String(format: "%.1f", bytesPerScore)) bytes per score (target <= 16): \(verdict(bytesPerScore <= 16))
            """)
    }

    /// The demo job under another name and prefix, keeping one run, so that a bench leaves the demo's
    /// keys alone and its memory figure covers exactly one run.
    private func writeJob() throws -> String {
        let root = FileManager.default.currentDirectoryPath
        var text = try String(contentsOfFile: "\(root)/jobs/fraud_risk.yaml", encoding: .utf8)
        text = text.replacingOccurrences(of: "name: fraud_risk", with: "name: \(Self.job)")
            .replacingOccurrences(of: "path: models/", with: "path: \(root)/jobs/models/")
            .replacingOccurrences(
                of: "output: { ttl: 48h, keep_runs: 2 }",
                with: "output: { ttl: 48h, keep_runs: 1, prefix: \(Self.prefix) }")
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        try text.write(toFile: "\(workDirectory)/\(Self.job).yaml", atomically: true, encoding: .utf8)
        return workDirectory
    }

    /// The demo job's source query, as the job file has it.
    private static func sourceQuery() throws -> String {
        let text = try String(contentsOfFile: "jobs/fraud_risk.yaml", encoding: .utf8)
        guard let start = text.range(of: "source:"),
            let query = text[start.upperBound...].range(of: "query: >-\n"),
            let end = text[query.upperBound...].range(of: "\nrealtime:")
        else { throw ValidationError("cannot find source.query in jobs/fraud_risk.yaml") }
        return text[query.upperBound..<end.lowerBound].split(separator: "\n")
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
            .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }

    /// SET with one key per entity, pipelined, in database 15 (flushed afterwards).
    private func redisSetRate(_ url: RedisURL) throws -> Double {
        var arguments = [
            "-h", url.host, "-p", String(url.port), "--dbnum", "15", "-t", "set", "-P", "64", "-c", "4", "-d",
            "24",
            "-r", String(entities), "-n", String(entities), "-q",
        ]
        if let password = url.password { arguments += ["-a", password, "--no-auth-warning"] }
        if let user = url.user { arguments += ["--user", user] }
        let output = try BenchSupport.run(redisBenchmark, arguments)
        // "SET: 912408.75 requests per second, p50=…", after carriage-return progress lines.
        guard
            let line = output.split(whereSeparator: { $0 == "\r" || $0 == "\n" }).last(where: {
                $0.hasPrefix("SET: ")
            }),
            let rate = Double(line.dropFirst(5).prefix { $0.isNumber || $0 == "." })
        else { throw ValidationError("cannot read redis-benchmark's output: \(output)") }
        return rate
    }

    private static func flushBenchmarkDatabase(_ url: RedisURL) throws {
        var benchmarkDatabase = url
        benchmarkDatabase.database = 15
        try RedisConnection(url: benchmarkDatabase, timeout: .seconds(120)).command("FLUSHDB")
    }

    /// Removes the bench job's keys with DEL (not UNLINK), so memory is freed before measuring.
    private static func removeBenchKeys(_ redis: RedisConnection) throws {
        try redis.scan(matching: "\(prefix):*", count: 10_000) { keys throws(RedisError) in
            try redis.command((["DEL"] + keys).map { Array($0.utf8) })
        }
    }

    private static func usedMemory(_ redis: RedisConnection) throws -> Int {
        guard let bytes = try redis.info("memory")["used_memory"].flatMap({ Int($0) }) else {
            throw ValidationError("INFO memory has no used_memory")
        }
        return bytes
    }
}
