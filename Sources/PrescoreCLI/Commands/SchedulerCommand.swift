import ArgumentParser
import Dispatch
import Foundation
import Logging
import PrescoreBatch
import PrescoreCore
import PrescoreJobs
import PrescorePostgres
import PrescoreRedis
import PrescoreScheduler
import PrescoreServer
import Prometheus
import ServiceLifecycle

struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Run the scheduler daemon: start every job's runs on time, once, with retries.",
        discussion: """
            Any number of schedulers may share one PostgreSQL: each slot (job, scheduled_for) gets one \
            run row, claimed by one instance under a lease; when an instance dies, another takes the \
            run over as a new attempt once the lease expires. See README "Schedule semantics".

            Applies pending migrations at start. SIGHUP re-reads the job files (a file with problems \
            is reported and its last good definition keeps running). SIGTERM or SIGINT: no new runs; \
            running ones get --grace to finish, then are cancelled (recorded as cancelled, the \
            published scores untouched).
            """)

    @OptionGroup var jobsDirectory: JobsDirectoryOption
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var redis: RedisOptions

    @Option(name: .customLong("http-port"), help: "Serve /healthz, /readyz and /metrics on this port.")
    var httpPort: Int?

    @Option(name: .customLong("http-host"), help: "The address --http-port binds to.")
    var httpHost = "0.0.0.0"

    @Option(help: "This instance's name in the run history and leases (default: scheduler@HOST:PID).")
    var instance: String?

    @Option(help: "How long a claimed run stays this instance's without renewal (renewed every third).")
    var lease = "30s"

    @Option(help: "How long running attempts may go on after SIGTERM or SIGINT before they are cancelled.")
    var grace = "5m"

    @Option(name: .customLong("max-concurrent-runs"), help: "Runs this instance works on at once.")
    var maxConcurrentRuns = 4

    func validate() throws {
        for (name, text) in [("--lease", lease), ("--grace", grace)] {
            do {
                _ = try DurationParser.parse(text)
            } catch let error as CoreError {
                throw ValidationError("\(name): \(error.message)")
            }
        }
        guard try DurationParser.parse(lease) >= .seconds(2) else {
            throw ValidationError("--lease must be at least 2s")
        }
        guard maxConcurrentRuns >= 1 else {
            throw ValidationError("--max-concurrent-runs must be at least 1")
        }
        if let httpPort, !(0...65_535).contains(httpPort) {
            throw ValidationError("--http-port must be 0 to 65535")
        }
    }

    func run() async throws {
        let (logger, registry) = DaemonBootstrap.start(label: "prescore.scheduler")

        // The jobs themselves are read by the scheduler's first tick; a missing folder stops here.
        let directory = jobsDirectory.jobsDirectory
        try JobCatalog.checkFolder(directory)
        // Every run holds threads of the process's executor; sized so that all of them fit at once.
        BlockingExecutor.shared.resize(limit: BlockingExecutor.limit(concurrentRuns: maxConcurrentRuns))
        // libpq blocks: on the executor, never the cooperative pool.
        let databaseURL = database.resolvedURL
        let applied = try await BlockingExecutor.shared.run("prescore-migrate") {
            try Migrator().migrate(PostgresConnection(url: databaseURL))
        }
        if !applied.isEmpty { logger.info("applied migrations \(applied.map(\.version))") }

        var configuration = Scheduler.Configuration(
            jobsDirectory: directory, databaseURL: database.resolvedURL,
            redisURL: try RedisURL(redis.resolvedURL),
            instance: instance ?? RunHistory.instanceName(role: "scheduler"))
        configuration.lease = try DurationParser.parse(lease)
        configuration.grace = try DurationParser.parse(grace)
        configuration.maxConcurrentRuns = maxConcurrentRuns
        let scheduler = Scheduler(configuration: configuration, logger: logger)

        signal(SIGHUP, SIG_IGN)
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        hangup.setEventHandler {
            logger.info("SIGHUP: re-reading \(directory)")
            scheduler.requestReload()
        }
        hangup.resume()
        defer { hangup.cancel() }

        var services = [
            ServiceGroupConfiguration.ServiceConfiguration(
                service: SchedulerService(scheduler: scheduler),
                successTerminationBehavior: .gracefullyShutdownGroup)
        ]
        if let httpPort {
            let readiness = scheduler.readiness
            services.append(
                .init(
                    service: OperationsServer.application(
                        host: httpHost, port: httpPort, registry: registry,
                        isReady: { readiness.isReady }, logger: logger)))
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
