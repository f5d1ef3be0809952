import ArgumentParser
import PrescoreCore
import PrescorePostgres

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "Recent runs, newest first, from prescore.job_runs.",
        discussion: """
            --format json prints an array of objects with job, run_id (a string), trigger, \
            scheduled_for, started_at, finished_at (RFC 3339 in UTC, or null), status, rows_read, \
            rows_scored, rows_written, rows_failed, model_version, cpu_seconds, error, \
            definition_hash (SHA-256 of the job file) and note (why an open run is not moving: a \
            queued run no scheduler claimed, a lapsed scheduler lease). Runs whose prescore run \
            process died are first recorded abandoned and their Redis keys removed.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    @Argument(help: "Only this job's runs.")
    var job: String?

    @Option(name: .customLong("limit"), help: "How many runs to show.")
    var limit = 20

    @Option(name: .customLong("format"), help: "table or json.")
    var format = Format.table

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var redis: RedisOptions

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        let connection = try database.connect()
        LapsedRunCheck.closeLapsedRuns(connection, redisURL: redis.resolvedURL)
        let runs = try RunHistory(connection: connection).recent(job: job, limit: limit)
        switch format {
        case .json:
            print("[" + runs.map(Self.json).joined(separator: ",\n") + "]")
        case .table:
            let rows = runs.map { run in
                [
                    run.job, String(run.runID), run.trigger, run.status, run.startedAt, run.finishedAt ?? "",
                    String(run.counts.read), String(run.counts.scored), String(run.counts.written),
                    String(run.counts.failed), run.modelVersion ?? "",
                    run.cpuSeconds.map { String(format: "%.1f", $0) } ?? "",
                    String((run.definitionHash ?? "").prefix(12)), run.error ?? run.note ?? "",
                ]
            }
            print(
                TextTable.render(
                    header: [
                        "JOB", "RUN", "TRIGGER", "STATUS", "STARTED", "FINISHED", "READ", "SCORED",
                        "WRITTEN", "FAILED", "MODEL", "CPU S", "JOB FILE", "ERROR",
                    ],
                    rows: rows))
        }
    }

    static func json(_ run: RunRecord) -> String {
        JSONText.object([
            ("job", .string(run.job)), ("run_id", .string(String(run.runID))),
            ("trigger", .string(run.trigger)),
            ("scheduled_for", .string(run.scheduledFor)), ("started_at", .string(run.startedAt)),
            ("finished_at", .string(run.finishedAt)), ("status", .string(run.status)),
            ("rows_read", .number(run.counts.read)), ("rows_scored", .number(run.counts.scored)),
            ("rows_written", .number(run.counts.written)), ("rows_failed", .number(run.counts.failed)),
            ("model_version", .string(run.modelVersion)), ("cpu_seconds", .number(run.cpuSeconds)),
            ("error", .string(run.error)), ("definition_hash", .string(run.definitionHash)),
            ("note", .string(run.note)),
        ])
    }
}
