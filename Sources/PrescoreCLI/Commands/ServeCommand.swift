import ArgumentParser
import Foundation
import Logging
import NIOPosix
import PrescoreCore
import PrescoreJobs
import PrescoreRedis
import PrescoreServer
import Prometheus
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve scores by key over HTTP, with the realtime fallback on a miss.",
        discussion: """
            GET /v1/scores/{job}/{key} and POST /v1/scores/{job}/batch answer from the published run \
            in Redis (one round trip); a miss of a job with `realtime:` is scored from PostgreSQL, \
            written back, and answered with source realtime, guarded by a deadline, a bulkhead and a \
            circuit breaker (`realtime.on_failure` decides what a failure answers). Also /healthz, \
            /readyz and /metrics. A new run published while serving is served at once. SIGTERM or \
            SIGINT: in-flight requests finish, then the process exits 0. See README "Serving scores". \
            A job with `experiment:` serves its realtime arm fresh and records every answer in \
            prescore.exposures (spooled on disk while PostgreSQL is away); POST /v1/outcomes \
            (Authorization: Bearer $PRESCORE_API_TOKEN) records outcomes, and \
            GET /v1/experiments/{name}/lift reports. See README "Experiments".
            """)

    @OptionGroup var jobsDirectory: JobsDirectoryOption
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var redis: RedisOptions

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on.")
    var port = 8080

    @Option(name: .customLong("pool-size"), help: "PostgreSQL connections for realtime fallbacks.")
    var poolSize = 8

    @Option(
        name: .customLong("idle-timeout"),
        help: "A client connection with no request for this long is closed (e.g. 30s, 2m).")
    var idleTimeout = "30s"

    @Option(name: .customLong("event-loop-threads"), help: "SwiftNIO event loop threads (HTTP and Redis).")
    var eventLoopThreads = 1

    @Option(
        name: .customLong("exposure-spool"),
        help: "Where exposures wait while PostgreSQL is away (one folder per process).")
    var exposureSpool = "prescore-spool"

    @Option(
        name: .customLong("exposure-spool-mb"),
        help: "The spool's bound; exposures past it are dropped and counted.")
    var exposureSpoolMB = 1024

    func validate() throws {
        guard exposureSpoolMB >= 1 else { throw ValidationError("--exposure-spool-mb must be at least 1") }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard (1...1_000).contains(poolSize) else { throw ValidationError("--pool-size must be 1 to 1000") }
        guard let idle = try? DurationParser.parse(idleTimeout), idle > .zero else {
            throw ValidationError("--idle-timeout must be a duration such as 30s or 2m")
        }
        guard (1...256).contains(eventLoopThreads) else {
            throw ValidationError("--event-loop-threads must be 1 to 256")
        }
    }

    func run() async throws {
        // Reads answer in well under a millisecond: buckets from 50 µs.
        let (logger, registry) = DaemonBootstrap.start(
            label: "prescore.serve",
            histogramBuckets: [
                "prescore_http_request_duration_seconds": [
                    .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
                    .milliseconds(1),
                    .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                    .milliseconds(50),
                    .milliseconds(100), .milliseconds(250), .seconds(1),
                ]
            ])

        let catalog = try JobCatalog.load(directory: jobsDirectory.jobsDirectory)
        for problem in catalog.problems { logger.error("\(problem)") }
        logger.info(
            "serving \(catalog.jobs.count) job(s): \(catalog.jobs.map(\.name).joined(separator: ", "))")
        var configuration = ServeConfiguration(
            databaseURL: database.resolvedURL, redisURL: try RedisURL(redis.resolvedURL))
        configuration.host = host
        configuration.port = port
        configuration.poolSize = poolSize
        configuration.idleTimeout = try DurationParser.parse(idleTimeout)
        configuration.exposureSpool = exposureSpool
        configuration.exposureSpoolBytes = exposureSpoolMB << 20
        configuration.apiToken = ProcessInfo.processInfo.environment["PRESCORE_API_TOKEN"].flatMap {
            $0.isEmpty ? nil : $0
        }
        // One event loop for HTTP and Redis both by default: measured on 2 cores shared with the
        // load, a second loop thread raised the 64-connection rate 6–17% and the CPU a hit 10–25%,
        // with no better tail (see README, Benchmarks).
        let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: eventLoopThreads)
        let application = try ServeApplication(
            configuration: configuration, jobs: catalog.jobs, registry: registry, logger: logger,
            eventLoops: eventLoops)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: application.services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
