import Foundation
import PrescoreBatch
import PrescoreCore
import PrescorePostgres

extension Scheduler {
    /// How often the scheduler deletes runs past their job's `history`.
    static let pruneInterval: TimeInterval = 600

    /// Every ten minutes, deletes runs past each job's `history`: in bounded batches on a thread of
    /// the executor with a connection of its own (the loop's statements stay short, whatever the
    /// history holds), by one instance at a time (an advisory lock; the others skip that round).
    func pruneHistory(now: Date) {
        guard now.timeIntervalSince(lastPrune) >= Self.pruneInterval, pruning.begin() else { return }
        lastPrune = now
        let groups = Dictionary(grouping: jobs.values.map(\.job)) { $0.definition.scheduling.history }
            .map { (history: $0.key, jobs: $0.value.map(\.name)) }
        let (databaseURL, lease, logger, pruning) = (
            configuration.databaseURL, configuration.lease, self.logger, self.pruning
        )
        pruneDone = BlockingExecutor.shared.execute("prescore-prune") {
            defer { pruning.end() }
            do {
                let ledger = try RunLedger(
                    connection: PostgresConnection(
                        url: databaseURL, applicationName: "prescore scheduler prune", deadline: lease / 3))
                _ = try ledger.withPruningLock { () throws(PostgresError) in
                    for group in groups {
                        let removed = try ledger.prune(
                            jobs: group.jobs,
                            finishedBefore: now.addingTimeInterval(-group.history.totalSeconds))
                        if removed > 0 {
                            logger.info(
                                "removed \(removed) run(s) past their job's history (\(group.history.jobFileText))"
                            )
                        }
                    }
                }
            } catch {
                logger.error("pruning the run history: \(error); trying again in ten minutes")
            }
        }
    }

    /// Blocks until the pruning under way (if any) has finished. For tests.
    public func waitForPruning() { pruneDone?.wait() }
}
