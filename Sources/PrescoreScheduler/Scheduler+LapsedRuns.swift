import Foundation
import PrescoreBatch
import PrescorePostgres

extension Scheduler {
    /// How often the scheduler closes runs whose `prescore run` process died.
    static let reapInterval: TimeInterval = 10

    /// Every ten seconds, looks for process-owned runs whose heartbeat lapsed on the loop's own
    /// connection (one indexed query, under its deadline); only when there are some does it close
    /// them (`LapsedRunReaper`), on a thread of its own with connections of its own, so the loop
    /// does no Redis I/O and an idle scheduler opens no connection.
    func reapLapsedRuns(_ ledger: RunLedger, now: Date) throws {
        guard now.timeIntervalSince(lastReap) >= Self.reapInterval else { return }
        lastReap = now
        guard try !RunHistory(connection: ledger.connection).lapsedRuns().isEmpty, reaping.begin() else {
            return
        }
        let (databaseURL, redisURL, lease) = (
            configuration.databaseURL, configuration.redisURL, configuration.lease
        )
        let (logger, reaping) = (self.logger, self.reaping)
        BlockingExecutor.shared.execute("prescore-reaper") {
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
