import Foundation
import PrescoreBatch
import ServiceLifecycle

/// Runs a `Scheduler` as a swift-service-lifecycle `Service`: the blocking loop gets a thread of the
/// process's `BlockingExecutor`, graceful shutdown (SIGTERM, SIGINT) begins the scheduler's own shutdown (no new runs,
/// grace period, then cancel), and cancellation cancels running attempts at once.
public struct SchedulerService: Service {
    public let scheduler: Scheduler

    public init(scheduler: Scheduler) {
        self.scheduler = scheduler
    }

    public func run() async throws {
        let scheduler = self.scheduler
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
                    BlockingExecutor.shared.execute("prescore-scheduler") {
                        scheduler.run()
                        finished.resume()
                    }
                }
            } onGracefulShutdown: {
                scheduler.beginShutdown()
            }
        } onCancel: {
            scheduler.cancelNow()
        }
    }
}
