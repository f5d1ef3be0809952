import ArgumentParser
import Foundation
import PrescoreCore
import PrescoreJobs
import PrescorePostgres
import PrescoreRedis

/// `--database-url`, overriding `DATABASE_URL`, defaulting to what `make services` starts.
struct DatabaseOptions: ParsableArguments {
    static let defaultURL = "postgresql://prescore:prescore-dev@127.0.0.1:55432/prescore"

    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "PostgreSQL connection URL (libpq form, so sslmode and the rest work as in psql).",
            discussion: "Default: $DATABASE_URL, else \(defaultURL).", valueName: "url"))
    var databaseURL: String?

    var resolvedURL: String {
        databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"] ?? Self.defaultURL
    }

    func connect() throws -> PostgresConnection {
        try PostgresConnection(url: resolvedURL)
    }
}

/// `--redis-url`, overriding `REDIS_URL`, defaulting to what `make services` starts.
struct RedisOptions: ParsableArguments {
    static let defaultURL = "redis://127.0.0.1:56379/0"

    @Option(
        name: .customLong("redis-url"),
        help: ArgumentHelp(
            "Redis URL: redis://[[user]:password@]host:port[/db].",
            discussion: "Default: $REDIS_URL, else \(defaultURL).", valueName: "url"))
    var redisURL: String?

    var resolvedURL: String {
        redisURL ?? ProcessInfo.processInfo.environment["REDIS_URL"] ?? Self.defaultURL
    }

    func connect() throws -> RedisConnection {
        try RedisConnection(url: RedisURL(resolvedURL))
    }
}

/// `--jobs-dir`, where `*.yaml` job files live.
struct JobsDirectoryOption: ParsableArguments {
    @Option(name: .customLong("jobs-dir"), help: "The folder of job files (*.yaml).")
    var jobsDirectory: String = "jobs"
}

extension RedisOptions {
    /// The Redis scores of job `name` from the jobs folder: its key prefix comes from its file.
    func scoreStore(job name: String, jobsDirectory: String) throws -> ScoreStore {
        let catalog = try JobCatalog.load(directory: jobsDirectory)
        let definition = try catalog.job(named: name, directory: jobsDirectory).definition
        return ScoreStore(
            connection: try connect(),
            layout: ScoreLayout(prefix: definition.output.prefix, job: definition.name))
    }
}
