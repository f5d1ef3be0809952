import ArgumentParser
import Foundation
import PrescoreCore
import PrescorePostgres

/// The scheduler's costs: computing the next fire time of 10,000 job definitions, the daemon's idle
/// CPU with those 10,000 jobs loaded (target under 1% of one core), and how late after their due
/// time runs start (target within 1 s), measured on a real `prescore scheduler` process.
struct SchedulerBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Next fire time of 10,000 jobs, the daemon's idle CPU, and its start lag.")

    @Option(help: "Job definitions.") var jobs: Int = 10_000
    @Option(help: "The prescore executable to run.") var prescore: String = ".build/release/prescore"
    @Option(name: .customLong("work-dir"), help: "Where the bench job files go.") var workDirectory: String
    @Option(name: .customLong("idle-seconds"), help: "How long idle CPU is measured.") var idleSeconds = 60
    @Option(name: .customLong("lag-seconds"), help: "How long an @every 1s job runs for the lag figure.")
    var lagSeconds = 15

    static let zones = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]

    func run() throws {
        let expressions = Self.expressions(count: jobs)
        let parsed = try expressions.map { (try CronExpression($0.text), TimeZone(identifier: $0.zone)!) }
        let now = Date()
        var fired = 0
        let nextFireSeconds = BenchSupport.bestSeconds(repetitions: 5) {
            fired = parsed.reduce(0) { $0 + ($1.0.nextFire(after: now, in: $1.1) == nil ? 0 : 1) }
        }
        let parseSeconds = try BenchSupport.bestSeconds(repetitions: 5) {
            for expression in expressions { _ = try CronExpression(expression.text) }
        }

        let idle = try measureIdle()
        let lag = try measureStartLag()
        func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1_000) }
        print(
            """

            scheduler benchmark: \(jobs) job definitions (cron and @every, \(Self.zones.count) time zones), 2 cores
              next fire time of all \(jobs) (\(fired) fire): \(ms(nextFireSeconds)) \
            (\(String(format: "%.1f", nextFireSeconds / Double(jobs) * 1e6)) µs a job); parsing them: \(ms(parseSeconds))
              prescore scheduler with \(jobs) idle jobs: loaded in \(String(format: "%.1f", idle.loadSeconds)) s, \
            idle CPU over \(idleSeconds) s: \(String(format: "%.2f", idle.percent))% of one core \
            (target < 1%): \(idle.percent < 1 ? "ok" : "MISSED")
              start lag of an @every 1s job over \(lagSeconds) s (\(lag.count) runs): median \(ms(lag.median)), \
            max \(ms(lag.max)) (target < 1 s): \(lag.max < 1 ? "ok" : "MISSED")
            """)
    }

    /// A deterministic mix of the schedules people write.
    static func expressions(count: Int) -> [(text: String, zone: String)] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        return (0..<count).map { index in
            let text: String
            switch index % 8 {
            case 0: text = "\(next(60)) \(next(24)) * * *"
            case 1: text = "*/\(1 + next(30)) * * * *"
            case 2: text = "\(next(60)) \(next(24)) \(1 + next(28)) * *"
            case 3: text = "\(next(60)) \(next(24)) * * \(["mon", "tue-fri", "sat,sun", "1-5"][next(4)])"
            case 4: text = "\(next(60)) */\(1 + next(6)) * * 1-5"
            case 5: text = ["@hourly", "@daily", "@weekly", "@monthly"][next(4)]
            case 6: text = "@every \(1 + next(3_600))s"
            default: text = "\(next(60)) \(next(24)) 1-7 * mon"
            }
            return (text, zones[next(zones.count)])
        }
    }

    /// Starts the daemon on `jobs` job files whose schedules (1 January) do not come due, and
    /// reads its CPU time from /proc before and after `idleSeconds`.
    private func measureIdle() throws -> (loadSeconds: Double, percent: Double) {
        let directory = "\(workDirectory)/idle-jobs"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for index in 0..<jobs {
            let name = String(format: "bench_idle_%05d", index)
            try """
            name: \(name)
            schedule: "\(index % 60) \(index / 60 % 24) 1 1 *"
            timezone: \(Self.zones[index % Self.zones.count])
            model: {kind: logistic, version: v1, intercept: 0, weights: {f_txn_count_30d: 0.1}}
            source: {query: "SELECT user_id AS key, f_txn_count_30d FROM demo.users"}
            output: {prefix: prescore-bench}
            """.write(toFile: "\(directory)/\(name).yaml", atomically: false, encoding: .utf8)
        }
        let log = "\(workDirectory)/idle-scheduler.log"
        let daemon = try startScheduler(jobsDirectory: directory, log: log)
        defer { stop(daemon) }
        let started = ContinuousClock.now
        while !(try String(contentsOfFile: log, encoding: .utf8)).contains("\(jobs) job(s)") {
            guard daemon.isRunning, ContinuousClock.now - started < .seconds(300) else {
                throw ValidationError("the scheduler did not load its jobs; see \(log)")
            }
            usleep(50_000)
        }
        let loadSeconds = (ContinuousClock.now - started).totalSeconds
        sleep(3)  // past the first ticks, which read every job's last slot
        let before = try Self.cpuSeconds(of: daemon.processIdentifier)
        let clock = ContinuousClock.now
        sleep(UInt32(idleSeconds))
        let used = try Self.cpuSeconds(of: daemon.processIdentifier) - before
        return (loadSeconds, used / (ContinuousClock.now - clock).totalSeconds * 100)
    }

    /// Runs one `@every 1s` job over a hundred rows for `lagSeconds`, then reads how late each run
    /// started after its slot from prescore.job_runs.
    private func measureStartLag() throws -> (count: Int, median: Double, max: Double) {
        let directory = "\(workDirectory)/lag-jobs"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try """
        name: bench_lag
        schedule: "@every 1s"
        concurrency: allow
        model: {kind: logistic, version: v1, intercept: 0, weights: {f_txn_count_30d: 0.1}}
        source: {query: "SELECT user_id AS key, f_txn_count_30d FROM demo.users WHERE user_id <= 100"}
        output: {prefix: prescore-bench, keep_runs: 1, ttl: 1h}
        """.write(toFile: "\(directory)/bench_lag.yaml", atomically: false, encoding: .utf8)
        let database = try PostgresConnection(url: BenchSupport.databaseURL)
        try database.execute("DELETE FROM prescore.job_runs WHERE job = 'bench_lag'")
        let daemon = try startScheduler(jobsDirectory: directory, log: "\(workDirectory)/lag-scheduler.log")
        sleep(UInt32(lagSeconds))
        stop(daemon)
        let lags = try database.execute(
            """
            SELECT extract(epoch FROM started_at - scheduled_for)::float8 FROM prescore.job_runs
            WHERE job = 'bench_lag' AND status = 'succeeded' ORDER BY 1
            """
        ).rows.compactMap { $0[0].flatMap { Double($0) } }
        try database.execute("DELETE FROM prescore.job_runs WHERE job = 'bench_lag'")
        guard !lags.isEmpty else { throw ValidationError("no bench_lag run succeeded") }
        return (lags.count, lags[lags.count / 2], lags.last!)
    }

    private func startScheduler(jobsDirectory: String, log: String) throws -> Process {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: prescore)
        process.arguments = ["scheduler", "--jobs-dir", jobsDirectory, "--instance", "bench"]
        process.standardOutput = output
        process.standardError = output
        try process.run()
        return process
    }

    private func stop(_ process: Process) {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// utime + stime of `pid`, from /proc/PID/stat (fields 14 and 15, in clock ticks).
    static func cpuSeconds(of pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        guard let close = stat.lastIndex(of: ")") else {
            throw ValidationError("unreadable /proc/\(pid)/stat")
        }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After "pid (comm)", field 3 (state) is fields[0]; utime is field 14, stime field 15.
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw ValidationError("unreadable /proc/\(pid)/stat")
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
