import Foundation
import PrescoreCore

/// The one place Prescore takes threads for blocking work: libpq, hiredis and libcurl calls, and
/// the waits around them (a run's reader and writer, heartbeats, cancel handlers, the scheduler's
/// loop and its attempts, webhook deliveries). None of that may run on Swift's cooperative pool
/// (two threads here) or a NIO event loop.
///
/// Threads are made on demand up to `limit`, reused, and end after `idleTimeout` without work.
/// Past the limit, work waits in order for a thread. A process sizes the limit from what it can run
/// at once (`limit(concurrentRuns:)`), so queued work never waits on work queued behind it: every
/// run's threads fit together. What is in use and what waits is visible (`load`), for metrics.
public final class BlockingExecutor: @unchecked Sendable {
    // @unchecked Sendable: `limit`, `threads`, `idle`, `busy` and `queue` are read and written only
    // while `condition` is locked; `idleTimeout` is immutable.

    /// Threads one run can hold at once: the run's own (scoring), its reader and writer, its
    /// heartbeat, and a cancel handler.
    public static let threadsPerRun = 5
    /// Threads a process holds besides its runs: a scheduler's loop, its webhook worker, its sweep
    /// of lapsed runs, and one for start-up work (migrations).
    public static let threadsBesideRuns = 4

    /// The process's executor. `prescore scheduler` sizes it from `--max-concurrent-runs`; other
    /// commands run one job at a time and keep the default, which leaves room for a test process
    /// running many jobs side by side.
    public static let shared = BlockingExecutor(limit: 64)

    /// A limit under which `concurrentRuns` runs and the process's own threads never wait.
    public static func limit(concurrentRuns: Int) -> Int {
        threadsBesideRuns + threadsPerRun * max(1, concurrentRuns)
    }

    /// Signalled once the submitted work has returned.
    public final class Completion: Sendable {
        private let semaphore = DispatchSemaphore(value: 0)

        fileprivate func signal() { semaphore.signal() }

        /// Blocks until the work has returned; at once when it has.
        public func wait() {
            semaphore.wait()
            semaphore.signal()  // for the next caller
        }
    }

    /// Threads made, threads running work, and work waiting for a thread.
    public struct Load: Sendable, Equatable {
        public var threads: Int
        public var busy: Int
        public var waiting: Int

        public init(threads: Int, busy: Int, waiting: Int) {
            self.threads = threads
            self.busy = busy
            self.waiting = waiting
        }
    }

    private struct Work {
        let name: String
        let body: @Sendable () -> Void
        let completion: Completion
    }

    private let condition = NSCondition()
    private let idleTimeout: TimeInterval
    private var limit: Int
    private var threads = 0
    private var idle = 0
    private var busy = 0
    private var queue: [Work] = []

    public init(limit: Int, idleTimeout: Duration = .seconds(10)) {
        precondition(limit >= 1, "an executor needs at least one thread")
        self.limit = limit
        self.idleTimeout = idleTimeout.totalSeconds
    }

    /// Sets how many threads may exist at once (threads above a lowered limit end when idle).
    public func resize(limit: Int) {
        precondition(limit >= 1, "an executor needs at least one thread")
        condition.lock()
        self.limit = limit
        condition.unlock()
    }

    public var load: Load {
        condition.lock()
        defer { condition.unlock() }
        return Load(threads: threads, busy: busy, waiting: queue.count)
    }

    /// Runs `body` on one of the executor's threads, named `name` while it runs.
    @discardableResult
    public func execute(_ name: String, _ body: @escaping @Sendable () -> Void) -> Completion {
        let work = Work(name: name, body: body, completion: Completion())
        condition.lock()
        queue.append(work)
        let spawn = idle < queue.count && threads < limit
        if spawn { threads += 1 }
        condition.signal()
        condition.unlock()
        if spawn {
            let thread = Thread { [self] in serve() }
            thread.name = "prescore-pool"
            thread.start()
        }
        return work.completion
    }

    /// Runs blocking `body` on one of the executor's threads and awaits its result, so an async
    /// caller's cooperative thread is free meanwhile.
    public func run<T: Sendable>(_ name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T
    {
        try await withCheckedThrowingContinuation { continuation in
            execute(name) { continuation.resume(with: Result { try body() }) }
        }
    }

    /// A worker: takes work in order until none came for `idleTimeout` or the limit was lowered.
    private func serve() {
        while let work = next() {
            Thread.current.name = work.name
            work.body()
            work.completion.signal()
            condition.lock()
            busy -= 1
            condition.unlock()
        }
    }

    private func next() -> Work? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty {
            guard threads <= limit else { break }
            idle += 1
            let woken = condition.wait(until: Date().addingTimeInterval(idleTimeout))
            idle -= 1
            if !woken && queue.isEmpty { break }
        }
        guard !queue.isEmpty, threads <= limit else {
            threads -= 1
            return nil
        }
        busy += 1
        return queue.removeFirst()
    }
}
