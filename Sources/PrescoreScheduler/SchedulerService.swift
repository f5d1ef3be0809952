import Foundation
import ServiceLifecycle

/// Runs a `Scheduler` as a swift-service-lifecycle `Service`: the blocking loop gets a thread of its
/// own, graceful shutdown (SIGTERM, SIGINT) begins the scheduler's own shutdown (no new runs,
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
                    let thread = Thread {
                        scheduler.run()
                        finished.resume()
                    }
                    thread.name = "prescore-scheduler"
                    thread.start()
                }
            } onGracefulShutdown: {
                scheduler.beginShutdown()
            }
        } onCancel: {
            scheduler.cancelNow()
        }
    }
}
