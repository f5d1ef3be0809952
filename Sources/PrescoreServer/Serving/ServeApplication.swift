import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import PrescoreBatch
import PrescoreCore
import PrescoreJobs
import PrescorePostgres
import PrescoreRedis
import Prometheus
import ServiceLifecycle

/// `prescore serve`: scores by key over HTTP (Hummingbird 2), from Redis without blocking, with the
/// realtime fallback on a miss. `services` go into the process's one `ServiceGroup`: the HTTP
/// server and the subscription that switches readers when a run publishes.
public struct ServeApplication: Sendable {
    let configuration: ServeConfiguration
    let service: ScoreService
    let pool: PostgresPool?
    /// Connections for outcomes and lift reports (nil when no job has an experiment).
    let experimentsPool: PostgresPool?
    let registry: PrometheusCollectorRegistry
    let logger: Logger
    let eventLoops: any EventLoopGroup

    public init(
        configuration: ServeConfiguration, jobs: [LoadedJob], registry: PrometheusCollectorRegistry,
        logger: Logger, eventLoops: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws(ServeError) {
        self.configuration = configuration
        self.registry = registry
        self.logger = logger
        self.eventLoops = eventLoops
        let redis = NIORedisClient(
            url: configuration.redisURL, group: eventLoops, connections: configuration.redisConnections)
        let pointers = PointerCache(redis: redis, ttl: configuration.pointerTTL)
        let metrics = ServeMetrics(jobs: jobs.map(\.name))
        let withFallback = jobs.filter { $0.definition.realtime != nil }
        // A statement outliving its request by far is stopped by the server: 20 deadlines, 1 s at least.
        let longest = withFallback.compactMap { $0.definition.realtime?.timeout.totalSeconds }.max() ?? 0
        let pool =
            withFallback.isEmpty
            ? nil
            : PostgresPool(
                url: configuration.databaseURL, size: configuration.poolSize,
                statementTimeout: .milliseconds(Int64(max(1, longest * 20) * 1000)))
        var served: [String: ScoreService.ServedJob] = [:]
        for job in jobs {
            let layout = ScoreLayout(prefix: job.definition.output.prefix, job: job.name)
            var fallback: RealtimeFallback?
            if let settings = job.definition.realtime, let pool {
                fallback = RealtimeFallback(
                    job: job, settings: settings, pool: pool, metrics: metrics, eventLoops: eventLoops,
                    writeBack: { key, score in
                        ScoreService.writeBack(key, score, layout: layout, pointers: pointers, redis: redis)
                    })
            }
            served[job.name] = ScoreService.ServedJob(job: job, layout: layout, fallback: fallback)
        }
        self.pool = pool
        var exposures: ExposureRecorder?
        if jobs.contains(where: { $0.definition.experiment != nil }) {
            exposures = ExposureRecorder(
                databaseURL: configuration.databaseURL,
                experiments: jobs.compactMap { job in job.definition.experiment.map { (job.name, $0) } },
                spool: try ExposureSpool(
                    directory: configuration.exposureSpool, maxBytes: configuration.exposureSpoolBytes),
                interval: configuration.exposureFlushInterval, logger: logger)
            experimentsPool = PostgresPool(
                url: configuration.databaseURL, size: 2, statementTimeout: .seconds(60))
        } else {
            experimentsPool = nil
        }
        service = ScoreService(
            jobs: served, redis: redis, pointers: pointers, metrics: metrics, exposures: exposures)
        // Fallbacks wait on executor threads: every job's bulkhead may fill at once.
        let threads = withFallback.compactMap { $0.definition.realtime?.maxInFlight }.reduce(0, +)
        BlockingExecutor.shared.resize(limit: max(64, threads + BlockingExecutor.threadsBesideRuns + 4))
    }

    /// The HTTP server, the publish subscription, (with experiments) the exposure recorder and
    /// (with fallbacks) the pool's warm-up. The recorder comes first: a `ServiceGroup` stops
    /// services in reverse order, so it flushes after the server has answered its last request.
    public var services: [any Service] {
        let exposures: [any Service] = service.exposures.map { [$0] } ?? []
        let warmUp: [any Service] =
            pool.map {
                [PoolWarmUp(pool: $0, fallbacks: service.jobs.values.compactMap(\.fallback), logger: logger)]
            }
            ?? []
        return exposures + warmUp + [
            http, PointerSubscription(redis: service.redis, pointers: service.pointers, logger: logger),
        ]
    }

    /// The `Server` header of every answer.
    static let serverName = "prescore"

    var http: some Service {
        let (service, idleTimeout) = (self.service, configuration.idleTimeout)
        return Application(
            responder: responder,
            server: HTTPServerBuilder { responder in
                ScoreHTTP1Channel(
                    responder: responder, service: service, serverName: Self.serverName,
                    idleTimeout: idleTimeout)
            },
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: Self.serverName),
            eventLoopGroupProvider: .shared(eventLoops), logger: logger)
    }

    /// The hot route matched by hand, then the router.
    var responder: some HTTPResponder<BasicRequestContext> {
        ScoreRouteResponder(service: service, router: router.buildResponder())
    }

    /// Every route but `GET /v1/scores/{job}/{key}` (`ScoreRouteResponder`).
    var router: Router<BasicRequestContext> {
        let router = Router()
        let service = self.service
        let configuration = self.configuration
        let experimentsPool = self.experimentsPool
        router.post("v1/scores/:job/batch") { request, context -> Response in
            let start = ContinuousClock.now
            let response = await Self.batch(
                service, job: context.parameters.get("job") ?? "", request: request,
                configuration: configuration)
            service.metrics.request(.batch, source: .batch, since: start)
            return response
        }
        router.post("v1/outcomes") { request, _ -> Response in
            await Self.outcomes(
                service, request: request, configuration: configuration, pool: experimentsPool)
        }
        router.get("v1/experiments/:name/lift") { request, context -> Response in
            await Self.lift(
                service, name: context.parameters.get("name") ?? "", query: request.uri.queryParameters,
                pool: experimentsPool)
        }
        router.get("healthz") { _, _ in "ok\n" }
        router.get("readyz") { _, _ -> Response in await ready() }
        router.get("metrics") { _, _ -> Response in metricsText() }
        return router
    }
}
