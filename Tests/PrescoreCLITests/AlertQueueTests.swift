import Foundation
import Logging
import PrescoreTestSupport
import Testing

@testable import PrescoreScheduler

@Suite struct AlertQueueTests {
    /// A receiver that never answers holds one delivery; the queue keeps 64 more and drops the
    /// rest, so a flood of failures can neither grow memory nor start a thread each.
    @Test func aFullQueueDropsAlerts() {
        let server = LoopbackHTTPServer(silent: true)
        defer { server.stop() }
        let queue = AlertQueue(timeout: .seconds(2), logger: Logger(label: "test"))
        let alert = Alert(job: "j", runID: 1, scheduledFor: nil, status: .failed, attempts: 1, error: nil)
        queue.enqueue(to: "http://127.0.0.1:\(server.port)/hook", alert)
        usleep(300_000)  // the worker has taken the first one and waits on the receiver
        for _ in 0..<(AlertQueue.capacity + 5) {
            queue.enqueue(to: "http://127.0.0.1:\(server.port)/hook", alert)
        }
        #expect(queue.dropped == 5)
    }
}
