import Logging
import ServiceLifecycle

/// Fills the realtime fallback's PostgreSQL pool when `serve` starts, every job's statement
/// prepared on each connection (see `PostgresPool.warmUp`); `/readyz` answers 503 until it is over.
struct PoolWarmUp: Service {
    let pool: PostgresPool
    let fallbacks: [RealtimeFallback]
    let logger: Logger

    func run() async throws {
        let (fallbacks, logger, size) = (self.fallbacks, self.logger, pool.size)
        pool.warmUp(
            prepare: { pooled in
                for fallback in fallbacks { try fallback.prepare(on: pooled) }
            },
            finished: { opened, failure in
                if let failure {
                    logger.warning(
                        "the realtime fallback's PostgreSQL pool opened \(opened) of \(size) connections at start-up; the rest open on demand",
                        metadata: ["error": "\(failure)"])
                } else {
                    logger.debug(
                        "the realtime fallback's PostgreSQL pool is open",
                        metadata: ["connections": "\(opened)"])
                }
            })
        try? await gracefulShutdown()
    }
}
