import ArgumentParser

/// The `prescore` command: every subcommand hangs off this root.
public struct Prescore: AsyncParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "prescore",
        abstract: "Precompute ML scores in batch on a schedule and publish them to Redis, read by key.",
        discussion: """
            Jobs are YAML files (jobs/*.yaml): a cron schedule, a PostgreSQL query that yields every \
            entity with its features, a model, and where the scores go.

            Configuration: DATABASE_URL and REDIS_URL (or --database-url / --redis-url).

            Exit status: 0 done, 1 failed (a server lost included), 130 or 143 cancelled by SIGINT \
            or SIGTERM, 64 usage error.
            """,
        version: version,
        subcommands: [
            CheckCommand.self, MigrateCommand.self, JobsCommand.self, RunCommand.self, RunsCommand.self,
            GetCommand.self, RollbackCommand.self, SchedulerCommand.self, TriggerCommand.self,
            ServeCommand.self,
            CronCommand.self, ReportCommand.self,
            ModelCommand.self, DemoCommand.self,
        ])

    public init() {}
}
