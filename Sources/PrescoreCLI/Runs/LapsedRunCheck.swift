import PrescoreBatch
import PrescorePostgres
import PrescoreRedis

/// What `prescore runs` and `jobs list` do before they show runs: close the runs whose process
/// died (`LapsedRunReaper`), so that no dead run is shown as `running`. A failure is a warning:
/// the listing still shows what PostgreSQL holds.
enum LapsedRunCheck {
    static func closeLapsedRuns(_ connection: PostgresConnection, redisURL: String) {
        do {
            let reaper = LapsedRunReaper(
                history: RunHistory(connection: connection), redisURL: try RedisURL(redisURL))
            for line in try reaper.reap() { printError(line) }
        } catch {
            printError("warning: runs whose process died are not closed now: \(error)")
        }
    }
}
