import Foundation
import PrescoreBatch
import Synchronization
import Testing

@Suite struct BlockingExecutorTests {
    @Test func neverHoldsMoreThreadsThanItsLimit() {
        let executor = BlockingExecutor(limit: 3)
        let gate = DispatchSemaphore(value: 0)
        let order = Mutex<[Int]>([])
        let completions = (0..<8).map { index in
            executor.execute("test-\(index)") {
                gate.wait()
                order.withLock { $0.append(index) }
            }
        }
        let deadline = Date().addingTimeInterval(10)
        while executor.load.busy < 3, Date() < deadline { usleep(1_000) }
        #expect(executor.load == BlockingExecutor.Load(threads: 3, busy: 3, waiting: 5))
        for _ in 0..<8 { gate.signal() }
        for completion in completions { completion.wait() }
        #expect(order.withLock { $0.count } == 8)
        #expect(executor.load.threads <= 3)
    }

    @Test func runsWhatWaitsInOrder() {
        let executor = BlockingExecutor(limit: 1)
        let order = Mutex<[Int]>([])
        let completions = (0..<6).map { index in
            executor.execute("test-\(index)") { order.withLock { $0.append(index) } }
        }
        for completion in completions { completion.wait() }
        #expect(order.withLock { $0 } == [0, 1, 2, 3, 4, 5])
    }

    @Test func reusesAnIdleThreadAndLetsItGoAfterTheIdleTimeout() async throws {
        let executor = BlockingExecutor(limit: 4, idleTimeout: .milliseconds(200))
        for index in 0..<5 {
            let value = try await executor.run("test") { index * 2 }
            #expect(value == index * 2)
        }
        // A call's result is handed back just before its thread is idle again, so the next call
        // may find no idle thread and make a second one; never more.
        #expect(executor.load.threads <= 2, "idle threads served the five calls one after another")
        for _ in 0..<100 where executor.load.threads > 0 { try await Task.sleep(for: .milliseconds(100)) }
        #expect(executor.load.threads == 0, "idle threads end")
    }

    @Test func runPassesErrorsBack() async {
        struct Failure: Error {}
        await #expect(throws: Failure.self) {
            try await BlockingExecutor(limit: 1).run("test") { throw Failure() }
        }
    }

    @Test func aLimitFitsEveryRunsThreads() {
        #expect(BlockingExecutor.limit(concurrentRuns: 4) == 4 + 5 * 4)
        #expect(BlockingExecutor.limit(concurrentRuns: 0) == BlockingExecutor.limit(concurrentRuns: 1))
    }
}
