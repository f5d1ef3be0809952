import Foundation
import PrescoreBatch
import PrescorePostgres
import Synchronization

/// Whether a sweep of lapsed runs is under way.
final class ReapingFlag: Sendable {
    private let flag = Mutex(false)

    /// Sets the flag; false when it was already set.
    func begin() -> Bool {
        flag.withLock { busy in
            defer { busy = true }
            return !busy
        }
    }

    func end() { flag.withLock { $0 = false } }
}

extension Scheduler {
    /// How often the scheduler closes runs whose `prescore run` process died.
    static let reapInterval: TimeInterval = 10

    /// Every ten seconds, closes process-owned runs whose heartbeat lapsed (`LapsedRunReaper`), on
    /// a thread of its own with connections of its own: the loop does no Redis I/O.
    func reapLapsedRuns(now: Date) {
        guard now.timeIntervalSince(lastReap) >= Self.reapInterval, reaping.begin() else { return }
        lastReap = now
        let (databaseURL, redisURL, lease) = (
            configuration.databaseURL, configuration.redisURL, configuration.lease
        )
        let (logger, reaping) = (self.logger, self.reaping)
        _ = BatchRun.onThread("prescore-reaper") {
            defer { reaping.end() }
            do {
                let connection = try PostgresConnection(
                    url: databaseURL, applicationName: "prescore scheduler reaper", deadline: lease / 3)
                let reaper = LapsedRunReaper(history: RunHistory(connection: connection), redisURL: redisURL)
                for line in try reaper.reap() { logger.warning("\(line)") }
            } catch {
                logger.error("closing runs whose process died: \(error)")
            }
        }
    }
}
