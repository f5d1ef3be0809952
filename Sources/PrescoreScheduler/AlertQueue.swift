import Foundation
import Logging
import PrescoreBatch

/// Webhook deliveries of the scheduler: a bounded queue drained by one worker (a thread of the
/// process's executor while alerts wait), so a slow or dead receiver holds up neither the loop nor
/// more than one thread, and a flood of failing runs cannot grow memory. Past `capacity`, an alert
/// is dropped and logged.
final class AlertQueue: @unchecked Sendable {
    // @unchecked Sendable: `pending`, `busy`, `working` and `droppedCount` are read and written
    // only under `signal`.
    static let capacity = 64

    let timeout: Duration
    let logger: Logger
    private let signal = NSCondition()
    private var pending: [(url: String, alert: Alert)] = []
    private var busy = false
    private var working = false
    private var droppedCount = 0

    /// Alerts dropped because the queue was full.
    var dropped: Int {
        signal.lock()
        defer { signal.unlock() }
        return droppedCount
    }

    init(timeout: Duration, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    /// Queues `alert` for `url`; drops it (logged) when the queue is full.
    func enqueue(to url: String, _ alert: Alert) {
        signal.lock()
        defer { signal.unlock() }
        guard pending.count < Self.capacity else {
            droppedCount += 1
            logger.error(
                "job \(alert.job): alert for run \(alert.runID) dropped: \(Self.capacity) alerts already wait"
            )
            return
        }
        pending.append((url, alert))
        if !working {
            working = true
            BlockingExecutor.shared.execute("prescore-webhook") { [self] in work() }
        }
        signal.broadcast()
    }

    /// Waits until every queued alert was tried, or `limit` passed.
    func drain(upTo limit: Duration) {
        let deadline = Date().addingTimeInterval(limit.totalSeconds)
        signal.lock()
        while !pending.isEmpty || busy, Date() < deadline { _ = signal.wait(until: deadline) }
        signal.unlock()
    }

    private func work() {
        while true {
            signal.lock()
            guard !pending.isEmpty else {  // gives the thread back until the next alert
                working = false
                signal.unlock()
                return
            }
            let (url, alert) = pending.removeFirst()
            busy = true
            signal.unlock()
            if let problem = alert.send(to: url, timeout: timeout) {
                logger.error("job \(alert.job): alert webhook failed: \(problem)")
            }
            signal.lock()
            busy = false
            signal.broadcast()
            signal.unlock()
        }
    }
}
