import Foundation
import PrescorePostgres

/// A bounded set of PostgreSQL connections for realtime fallbacks. libpq blocks, so the pool is
/// used only from threads of the process's `BlockingExecutor`, never from an event loop or the
/// cooperative pool: a caller beyond `size` waits on its own thread. A connection that broke is
/// dropped and replaced by the next caller. Each connection remembers the statements prepared on it.
final class PostgresPool: @unchecked Sendable {
    // @unchecked Sendable: `idle`, `open`, `inUse` and `waiting` are read and written only while
    // `condition` is locked; the other properties are immutable. A `Pooled` connection is used by
    // one thread at a time: the one that acquired it, until it releases it.

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
            let connection = try PostgresConnection(url: url, applicationName: "prescore serve")
            try connection.execute("SET statement_timeout = \(max(1, statementTimeout.totalMilliseconds))")
            return Pooled(connection)
        } catch {
            condition.lock()
            open -= 1
            inUse -= 1
            condition.signal()
            condition.unlock()
            throw error
        }
    }

    private func release(_ pooled: Pooled, healthy: Bool) {
        condition.lock()
        inUse -= 1
        if healthy { idle.append(pooled) } else { open -= 1 }
        condition.signal()
        condition.unlock()
    }
}
