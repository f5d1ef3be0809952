import ArgumentParser
import Foundation
import PrescoreCore
import PrescoreJobs
import PrescorePostgres

struct JobsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the jobs: schedule, time zone, next fire time, last run and its status.",
        discussion: """
            Next fire times are in each job's time zone, with its UTC offset. The last run comes from \
            prescore.job_runs; when PostgreSQL cannot be reached the list is still printed, with a \
            warning. Files with problems are skipped with a warning; run `prescore jobs validate` for \
            details.
            """)

    @OptionGroup var jobsDirectory: JobsDirectoryOption
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var redis: RedisOptions

    func run() throws {
        let catalog = try JobCatalog.load(directory: jobsDirectory.jobsDirectory)
        var latest: [String: RunRecord] = [:]
        do {
            let connection = try database.connect()
            LapsedRunCheck.closeLapsedRuns(connection, redisURL: redis.resolvedURL)
            latest = try RunHistory(connection: connection).latestByJob()
        } catch {
            printError("warning: last runs not shown: \(error)")
        }
        let now = Date()
        let rows = catalog.jobs.map { job in
            let definition = job.definition
            let zone = definition.timeZone
            let next = definition.schedule.nextFire(after: now, in: zone)
            let last = latest[definition.name]
            return [
                definition.name, definition.schedule.text, definition.timezone,
                definition.scheduling.suspend
                    ? "suspended" : next.map { FireTimeFormat.string($0, in: zone) } ?? "never",
                last?.startedAt ?? "-", last.map { $0.status + ($0.note.map { " (\($0))" } ?? "") } ?? "-",
                "\(definition.model.kind) \(definition.model.version)", definition.file,
            ]
        }
        print(
            TextTable.render(
                header: ["JOB", "SCHEDULE", "TIMEZONE", "NEXT RUN", "LAST RUN", "STATUS", "MODEL", "FILE"],
                rows: rows))
        let badFiles = Set(catalog.problems.compactMap { $0.location?.file })
        for file in badFiles.sorted() {
            printError("warning: \(file) has problems and is not listed; run prescore jobs validate")
        }
    }
}
