import Foundation
import Hummingbird
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
    let registry: PrometheusCollectorRegistry
    let logger: Logger
    let eventLoops: any EventLoopGroup

    public init(
        configuration: ServeConfiguration, jobs: [LoadedJob], registry: PrometheusCollectorRegistry,
        logger: Logger, eventLoops: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
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
        service = ScoreService(jobs: served, redis: redis, pointers: pointers, metrics: metrics)
        // Fallbacks wait on executor threads: every job's bulkhead may fill at once.
        let threads = withFallback.compactMap { $0.definition.realtime?.maxInFlight }.reduce(0, +)
        BlockingExecutor.shared.resize(limit: max(64, threads + BlockingExecutor.threadsBesideRuns + 4))
    }

    /// The HTTP server and the publish subscription.
    public var services: [any Service] {
        [http, PointerSubscription(redis: service.redis, pointers: service.pointers, logger: logger)]
    }

    var http: some Service {
        Application(
            router: router,
            server: .http1(
                configuration: .init(
                    idleTimeout: .nanoseconds(Int64(configuration.idleTimeout.totalSeconds * 1e9)))),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "prescore"),
            eventLoopGroupProvider: .shared(eventLoops), logger: logger)
    }

    var router: Router<BasicRequestContext> {
        let router = Router()
        let service = self.service
        let configuration = self.configuration
        router.get("v1/scores/:job/:key") { request, context -> Response in
            let start = ContinuousClock.now
            let (response, source) = await Self.score(
                service, job: context.parameters.get("job") ?? "", rawKey: context.parameters.get("key") ?? ""
            )
            service.metrics.request(.score, source: source, since: start)
            return response
        }
        router.post("v1/scores/:job/batch") { request, context -> Response in
            let start = ContinuousClock.now
            let response = await Self.batch(
                service, job: context.parameters.get("job") ?? "", request: request,
                configuration: configuration)
            service.metrics.request(.batch, source: .batch, since: start)
            return response
        }
        router.get("healthz") { _, _ in "ok\n" }
        router.get("readyz") { _, _ -> Response in await ready() }
        router.get("metrics") { _, _ -> Response in metricsText() }
        return router
    }
}
