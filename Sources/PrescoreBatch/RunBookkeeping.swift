import Foundation
import PrescoreCore
import PrescorePostgres
import Synchronization

/// The PostgreSQL side of a run that this process owns (`prescore run`, `trigger --now`): its row
/// in `prescore.job_runs`, the heartbeat that renews its lease every third of it (on a thread of its
/// own, with the counts so far), and its outcome. The connection is replaced when it breaks, so a
/// PostgreSQL restart during a long run costs the run nothing.
final class RunBookkeeping: Sendable {
    let databaseURL: String
    let applicationName: String
    let lease: Duration
    private let connection: Mutex<PostgresConnection?>
    private let stop = DispatchSemaphore(value: 0)
    private let heartbeatDone = Mutex<BlockingExecutor.Completion?>(nil)

    init(databaseURL: String, applicationName: String, lease: Duration = RunHistory.processLease) throws {
        self.databaseURL = databaseURL
        self.applicationName = applicationName
        self.lease = lease
        connection = Mutex(try PostgresConnection(url: databaseURL, applicationName: applicationName))
    }

    /// Runs `body` with the run history, on a fresh connection when the last one broke.
    func withHistory<R>(_ body: (RunHistory) throws -> R) throws -> R {
        let current = try connection.withLock { current in
            if let existing = current, existing.isHealthy { return existing }
            current = nil
            let fresh = try PostgresConnection(url: databaseURL, applicationName: applicationName)
            current = fresh
            return fresh
        }
        do {
            return try body(RunHistory(connection: current))
        } catch let error as PostgresError where error.code == .connectionLost {
            connection.withLock { if $0 === current { $0 = nil } }
            throw error
        }
    }

    /// Renews run `runID`'s lease until `stopHeartbeat()`, cancelling the run through
    /// `cancellation` when the lease can no longer be held (see `RunHeartbeat`).
    func startHeartbeat(
        job: String, runID: Int64, counts: LiveCounts, cpuAtStart: Double, cancellation: CancellationFlag,
        log: @escaping @Sendable (String) -> Void
    ) {
        let done = BlockingExecutor.shared.execute("prescore-heartbeat") { [self] in
            let origin = ContinuousClock.now
            var heartbeat = RunHeartbeat(lease: lease, startedAt: 0)
            while stop.wait(timeout: .now() + heartbeat.interval.totalSeconds) == .timedOut {
                let now = (ContinuousClock.now - origin).totalSeconds
                let event: RunHeartbeat.Event
                do {
                    let outcome = try withHistory {
                        try $0.heartbeat(
                            job: job, runID: runID, counts: counts.current,
                            cpuSeconds: BatchRun.cpuSeconds() - cpuAtStart, lease: lease)
                    }
                    switch outcome {
                    case .renewed: event = .renewed(at: now)
                    case .cancelRequested(let reason): event = .cancelRequested(reason: reason)
                    case .lost: event = .lost(reason: "the run was recorded abandoned while it ran")
                    }
                } catch {
                    log("the run's heartbeat could not be recorded: \(error)")
                    event = .renewFailed(at: now)
                }
                if case .cancelRun(let reason) = heartbeat.event(event) { cancellation.cancel(reason) }
            }
        }
        heartbeatDone.withLock { $0 = done }
    }

    func stopHeartbeat() {
        guard let done = heartbeatDone.withLock({ $0 }) else { return }
        stop.signal()
        done.wait()
    }
}
