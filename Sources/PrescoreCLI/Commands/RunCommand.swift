import ArgumentParser
import Foundation
import PrescoreBatch
import PrescoreCore
import PrescoreJobs
import PrescoreRedis

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one batch of a job now: score every entity and publish the scores.",
        discussion: """
            Streams the job's source.query from one consistent PostgreSQL snapshot, scores every row \
            on all cores and writes the scores to Redis under the run's own keys. Only when every \
            write succeeded and the guards pass does the job's pointer switch to the new run, \
            atomically; otherwise the published scores stay as they were and the run's keys are \
            removed. Every run is recorded in prescore.job_runs (see prescore runs).

            Exit status: 0 when the run published (or the dry run passed), 1 when it failed \
            (a server lost included), 130 when SIGINT and 143 when SIGTERM cancelled it (a second \
            signal exits at once), 64 for a usage error.
            """)

    @Argument(help: "The job's name.")
    var job: String

    @OptionGroup var jobsDirectory: JobsDirectoryOption

    @Flag(name: .customLong("dry-run"), help: "Read and score everything and report; write nothing.")
    var dryRun = false

    @Option(name: .customLong("batch-size"), help: .hidden)
    var batchSize = BatchRun.Options().batchSize

    /// The most scores held for whole-bucket `RESTORE`s at the end (`BatchRun.Options.holdLimit`);
    /// hidden: for tests, which make a small run write as it goes (0) the way a large one does.
    @Option(name: .customLong("hold-limit"), help: .hidden)
    var holdLimit = BatchRun.Options.defaultHoldLimit

    /// How long the run's row stays this process's without a heartbeat; hidden: for tests, which
    /// cannot wait the default 30 s for a killed run to lapse.
    @Option(name: .customLong("heartbeat-lease"), help: .hidden)
    var heartbeatLease = "30s"

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var redis: RedisOptions

    func validate() throws {
        guard (1...1_048_576).contains(batchSize) else {
            throw ValidationError("--batch-size must be 1 to 1048576")
        }
        guard (0...BatchRun.Options.defaultHoldLimit).contains(holdLimit) else {
            throw ValidationError("--hold-limit must be 0 to \(BatchRun.Options.defaultHoldLimit)")
        }
        guard let lease = try? DurationParser.parse(heartbeatLease), lease >= .seconds(1) else {
            throw ValidationError("--heartbeat-lease must be a duration of at least 1s")
        }
    }

    func run() throws {
        try Self.runNow(
            job: job, jobsDirectory: jobsDirectory.jobsDirectory, databaseURL: database.resolvedURL,
            redisURL: redis.resolvedURL,
            options: BatchRun.Options(
                mode: dryRun ? .dryRun : .manual, batchSize: batchSize,
                heartbeatLease: try DurationParser.parse(heartbeatLease), holdLimit: holdLimit))
    }

    /// Runs `job` in this process (`prescore run`, `prescore trigger --now`), cancelled by SIGINT
    /// and SIGTERM; throws the command's exit code when it did not publish.
    static func runNow(
        job: String, jobsDirectory: String, databaseURL: String, redisURL: String, options: BatchRun.Options
    ) throws {
        let catalog = try JobCatalog.load(directory: jobsDirectory)
        let entry = try catalog.job(named: job, directory: jobsDirectory)
        let batch = BatchRun(
            job: entry.definition, definitionText: entry.text, scorer: entry.scorer,
            databaseURL: databaseURL, redisURL: try RedisURL(redisURL), options: options)
        let cancellation = CancellationFlag()
        let signals = SignalCancellation(cancellation)
        defer { withExtendedLifetime(signals) {} }
        var reporter = ProgressReporter(job: job)
        let report = try batch.run(
            cancellation: cancellation, progress: { reporter.show($0) }, log: { printError("\(job): \($0)") })
        reporter.finish()
        printSummary(report)
        switch report.status {
        case .succeeded: return
        case .cancelled: throw ExitCode(signals.exitStatus)
        default: throw ExitCode.failure
        }
    }

    /// One line on standard output when the run succeeded, on standard error when it did not.
    static func printSummary(_ report: BatchReport) {
        let counts = report.counts
        let rate = report.seconds > 0 ? Int(Double(counts.read) / report.seconds) : 0
        let name = report.runID.map { "\(report.job) run \($0)" } ?? "\(report.job) dry run"
        var line =
            "\(name) \(report.status.rawValue): \(counts.read) read, \(counts.scored) scored, "
            + "\(counts.written) written, \(counts.failed) failed in "
            + String(format: "%.2f", report.seconds) + " s (\(rate) rows/s, "
            + String(format: "%.1f", report.cpuSeconds) + " CPU s)"
        if report.status == .succeeded && !report.dryRun {
            line += "; published, \(report.buckets) buckets"
            if !report.removedRuns.isEmpty {
                line += "; removed run " + report.removedRuns.map(String.init).joined(separator: ", ")
            }
        }
        if report.redisReconnects > 0 { line += "; reconnected to Redis \(report.redisReconnects)x" }
        if let reason = report.reason { line += ": \(reason)" }
        if let problem = report.cleanupProblem { line += "; \(problem)" }
        if report.status == .succeeded {
            print(line)
        } else {
            printError(line)
        }
        // Redis' default hash-max-listpack-entries; a bucket beyond it costs several times more.
        if report.largestBucket > 512 {
            printError(
                "\(report.job): warning: a bucket received \(report.largestBucket) scores, past Redis' "
                    + "default listpack limit of 512: the source returned far more rows than the "
                    + "planner estimated; the next run sizes its buckets from this run's rows")
        }
    }
}
