import Foundation
import PrescoreCore
import PrescoreRedis
import Synchronization

/// The Redis connection of one batch run, replaced when it breaks: a lost connection (server
/// restarted, `CLIENT KILL`, a network blip) is reconnected within the run's `ReconnectBudget`
/// and the operation that was in flight is sent again. Only idempotent operations go through it:
/// score writes, run registration, the fence, the publish compare-and-set (see `BatchRun`) and
/// removals.
final class RedisSession: Sendable {
    let url: RedisURL
    let name: String
    private let state: Mutex<(connection: RedisConnection, budget: ReconnectBudget, reconnects: Int)>
    private let origin = ContinuousClock.now

    init(url: RedisURL, name: String, budget: ReconnectBudget = ReconnectBudget()) throws(RedisError) {
        self.url = url
        self.name = name
        state = Mutex((try BatchRun.connect(url, name: name), budget, 0))
    }

    /// How many times the connection was replaced.
    var reconnects: Int { state.withLock { $0.reconnects } }

    /// Runs `body` with the current connection; when the connection is lost, reconnects (within the
    /// budget) and runs `body` again.
    func perform<R>(_ body: (RedisConnection) throws -> R) throws -> R {
        while true {
            let connection = state.withLock { $0.connection }
            do {
                return try body(connection)
            } catch {
                guard let lost = error as? RedisError, lost.code == .connectionLost else { throw error }
                try reconnect(after: lost)
            }
        }
    }

    /// Replaces the connection, pausing as the budget says; a reconnect that fails spends the
    /// budget too. Throws the lost connection's error, with the budget's reason, once it is spent.
    private func reconnect(after lost: RedisError) throws {
        while true {
            let now = (ContinuousClock.now - origin).totalSeconds
            switch state.withLock({ $0.budget.connectionLost(at: now) }) {
            case .giveUp(let why):
                throw RedisError(.connectionLost, "\(lost.message); \(why)", server: lost.server)
            case .reconnect(let pause):
                Thread.sleep(forTimeInterval: pause.totalSeconds)
                // A reconnect that fails spends the budget like a loss (typed throws and a
                // `catch where` crash this compiler, hence the Result).
                switch Result(catching: { () throws(RedisError) in try BatchRun.connect(url, name: name) }) {
                case .success(let fresh):
                    state.withLock {
                        $0.connection = fresh
                        $0.reconnects += 1
                    }
                    return
                case .failure(let error):
                    guard error.code == .connectionFailed else { throw error }
                }
            }
        }
    }
}
