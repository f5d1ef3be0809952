import Logging
import PrescoreCore
import ServiceLifecycle

/// Keeps `serve`'s cached pointers in step with publishes: subscribed to
/// `ScoreLayout.publishChannel`, it drops a job's pointer when its run changes, so a new run
/// serves without a restart. While unsubscribed (Redis away), every pointer is dropped on
/// reconnecting, since messages may have been missed; the cache's short TTL covers the gap.
struct PointerSubscription: Service {
    let redis: NIORedisClient
    let pointers: PointerCache
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let channel = try await redis.subscribe(
                        ScoreLayout.publishChannel, onMessage: { [pointers] key in pointers.invalidate(key) },
                        onClose: {})
                    pointers.invalidateAll()
                    try await withTaskCancellationHandler {
                        try await channel.closeFuture.get()
                    } onCancel: {
                        channel.close(promise: nil)
                    }
                    if Task.isCancelled { return }
                    logger.warning("the publish subscription closed; subscribing again")
                } catch {
                    if Task.isCancelled { return }
                    logger.warning("cannot subscribe to publishes (\(error)); trying again in 1 s")
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
