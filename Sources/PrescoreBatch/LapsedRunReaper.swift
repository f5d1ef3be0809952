import PrescoreCore
import PrescorePostgres
import PrescoreRedis

/// Finds runs whose process stopped renewing its heartbeat (it died, or lost PostgreSQL for
/// longer than its lease: see `RunHeartbeat`) and closes them: their Redis keys are removed and
/// the run is recorded `abandoned`, with the process that owned it and the counts of its last
/// heartbeat. Called by whatever looks next: a new run of the job, each scheduler tick,
/// `prescore runs` and `prescore jobs list`.
///
/// A run whose process died in the instant between its publish and its record is published: its
/// keys stay, and it is recorded `succeeded` with a note.
public struct LapsedRunReaper: Sendable {
    public let history: RunHistory
    public let redisURL: RedisURL

    public init(history: RunHistory, redisURL: RedisURL) {
        self.history = history
        self.redisURL = redisURL
    }

    /// Closes the lapsed runs of `job` (or of every job); returns a line for each one closed.
    /// Redis is needed to remove the keys: without it nothing is closed, and a later look does it.
    public func reap(job: String? = nil) throws -> [String] {
        let lapsed = try history.lapsedRuns(job: job)
        guard !lapsed.isEmpty else { return [] }
        let redis = try BatchRun.connect(redisURL, name: "prescore reaper")
        var closed: [String] = []
        for run in lapsed {
            let store = ScoreStore(
                connection: redis, layout: ScoreLayout(prefix: run.outputPrefix, job: run.job))
            if try store.isPublishedOrKept(run.runID) {
                let reason = "its process \(run.owner) ended after publishing, before recording it"
                if try history.closeLapsed(run, status: .succeeded, reason: reason) {
                    closed.append("job \(run.job): run \(run.runID) was published; \(reason)")
                }
                continue
            }
            try store.deleteRun(run.runID)
            let reason = "its process \(run.owner) stopped renewing its heartbeat; its keys were removed"
            if try history.closeLapsed(run, status: .abandoned, reason: reason) {
                closed.append("job \(run.job): run \(run.runID) abandoned: \(reason)")
            }
        }
        return closed
    }
}
