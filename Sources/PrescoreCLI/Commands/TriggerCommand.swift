import ArgumentParser
import Foundation
import PrescoreBatch
import PrescoreCore
import PrescoreJobs
import PrescorePostgres

struct TriggerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trigger",
        abstract: "Record a manual run of a job for a running scheduler to start (or run it now).",
        discussion: """
            Without --now the run is queued in prescore.job_runs (trigger manual, status queued) and \
            the next scheduler tick, within about a second, claims and starts it, with the job's \
            retries. A manual run starts whatever the job's concurrency policy and suspend say, as \
            `kubectl create job --from=cronjob/…` does. With --now this process runs it at once, as \
            `prescore run` does, and exits with its status (0 published, 1 failed, 130 or 143 cancelled by SIGINT or SIGTERM).
            """)

    @Argument(help: "The job's name.")
    var job: String

    @Flag(name: .customLong("now"), help: "Run it in this process instead of queueing it.")
    var now = false

    @OptionGroup var jobsDirectory: JobsDirectoryOption
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var redis: RedisOptions

    func run() throws {
        if now {
            try RunCommand.runNow(
                job: job, jobsDirectory: jobsDirectory.jobsDirectory, databaseURL: database.resolvedURL,
                redisURL: redis.resolvedURL, options: BatchRun.Options())
            return
        }
        // The job must exist here, so that a typo fails now rather than queue a run nobody claims.
        _ = try JobCatalog.load(directory: jobsDirectory.jobsDirectory)
            .job(named: job, directory: jobsDirectory.jobsDirectory)
        let runID = try RunLedger(connection: database.connect()).enqueueManual(job: job, now: Date())
        print("\(job): run \(runID) queued; a running prescore scheduler starts it within about a second")
    }
}
