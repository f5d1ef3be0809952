import Foundation
import PrescoreBatch
import PrescorePostgres
import Synchronization

/// A bounded set of PostgreSQL connections for realtime fallbacks. libpq blocks, so the pool is
/// used only from threads of the process's `BlockingExecutor`, never from an event loop or the
/// cooperative pool: a caller beyond `size` waits on its own thread. A connection that broke is
/// dropped and replaced by the next caller. Each connection remembers the statements prepared on it.
///
/// `serve` fills the pool when it starts (`warmUp`): opening a connection (a backend process
/// forked, authentication, the statements prepared) took longer than the default 50 ms
/// `realtime.timeout` here, so with a pool filled on demand the first misses after every start
/// were answered by `on_failure`.
final class PostgresPool: @unchecked Sendable {
    // @unchecked Sendable: `idle`, `open`, `inUse`, `waiting` and `opening` are read and written
    // only while `condition` is locked; the other properties are immutable. A `Pooled` connection
    // is used by one thread at a time: the one that acquired it (or opened it in `warmUp`), until
    // it releases it (or leaves it idle).

    final class Pooled: @unchecked Sendable {
        // @unchecked Sendable: handed from thread to thread only through the pool's lock.
        let connection: PostgresConnection
        var prepared: Set<String> = []

        init(_ connection: PostgresConnection) { self.connection = connection }
    }

    let url: String
    let size: Int
    /// Each connection's `statement_timeout`: a statement still running past it is stopped by the
    /// server, so a slow query frees its connection even after the request's deadline answered.
    let statementTimeout: Duration
    private let condition = NSCondition()
    private var idle: [Pooled] = []
    private var open = 0
    private(set) var inUse = 0
    private(set) var waiting = 0
    /// Connections `warmUp` is still opening.
    private var opening = 0

    init(url: String, size: Int, statementTimeout: Duration) {
        self.url = url
        self.size = max(1, size)
        self.statementTimeout = statementTimeout
    }

    /// Connections in use and callers waiting for one, for metrics.
    var load: (inUse: Int, waiting: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (inUse, waiting)
    }

    /// Runs `body` with a connection. Blocking: call it on an executor thread.
    func withConnection<R>(_ body: (Pooled) throws -> R) throws -> R {
        let pooled = try acquire()
        do {
            let result = try body(pooled)
            release(pooled, healthy: pooled.connection.isHealthy)
            return result
        } catch {
            release(pooled, healthy: pooled.connection.isHealthy)
            throw error
        }
    }

    private func acquire() throws -> Pooled {
        condition.lock()
        while idle.isEmpty && open >= size {
            waiting += 1
            condition.wait()
            waiting -= 1
        }
        inUse += 1
        if let pooled = idle.popLast() {
            condition.unlock()
            return pooled
        }
        open += 1
        condition.unlock()
        do {
            return try connect()
        } catch {
            condition.lock()
            open -= 1
            inUse -= 1
            condition.signal()
            condition.unlock()
            throw error
        }
    }

    private func connect() throws -> Pooled {
        let connection = try PostgresConnection(url: url, applicationName: "prescore serve")
        try connection.execute("SET statement_timeout = \(max(1, statementTimeout.totalMilliseconds))")
        return Pooled(connection)
    }

    /// Whether `warmUp` is still opening connections.
    var isWarmingUp: Bool {
        condition.lock()
        defer { condition.unlock() }
        return opening > 0
    }

    /// Opens connections on executor threads, at once, until the pool holds `size`, each readied by
    /// `prepare` (the fallbacks' statements) and left idle. Returns without waiting: `isWarmingUp`
    /// says when it is over, and `finished` hears how many opened and the first failure (a
    /// connection that could not be opened is opened on demand later, as without a warm-up).
    func warmUp(
        prepare: @escaping @Sendable (Pooled) throws -> Void,
        finished: @escaping @Sendable (_ opened: Int, _ failure: (any Error)?) -> Void
    ) {
        condition.lock()
        let count = size - open
        open += count
        opening += count
        condition.unlock()
        let outcome = Mutex<(opened: Int, failure: (any Error)?)>((0, nil))
        for _ in 0..<count {
            BlockingExecutor.shared.execute("prescore-pool-warm-up") { [self] in
                let pooled = Result { () throws -> Pooled in
                    let pooled = try connect()
                    try prepare(pooled)
                    return pooled
                }
                condition.lock()
                // Under `condition` with `opening`: the worker that ends the warm-up sees every tally.
                let summary = outcome.withLock { outcome in
                    switch pooled {
                    case .success: outcome.opened += 1
                    case .failure(let error): outcome.failure = outcome.failure ?? error
                    }
                    return outcome
                }
                opening -= 1
                switch pooled {
                case .success(let pooled): idle.append(pooled)
                case .failure: open -= 1
                }
                let done = opening == 0
                condition.signal()
                condition.unlock()
                if done { finished(summary.opened, summary.failure) }
            }
        }
        if count == 0 { finished(0, nil) }
    }

    private func release(_ pooled: Pooled, healthy: Bool) {
        condition.lock()
        inUse -= 1
        if healthy { idle.append(pooled) } else { open -= 1 }
        condition.signal()
        condition.unlock()
    }
}
