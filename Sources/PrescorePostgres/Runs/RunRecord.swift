import PrescoreCore

/// One row of `prescore.job_runs`. Times are RFC 3339 text in UTC (`2026-11-23T02:15:00Z`), as
/// `prescore runs` prints them.
public struct RunRecord: Sendable, Equatable {
    public var job: String
    public var runID: Int64
    public var trigger: String
    public var scheduledFor: String?
    public var startedAt: String
    public var finishedAt: String?
    public var status: String
    public var counts: RunCounts
    public var modelVersion: String?
    public var cpuSeconds: Double?
    public var error: String?
    /// SHA-256 (hex) of the job file the run was started from.
    public var definitionHash: String?
    /// Why an open run is not moving: a queued run no scheduler claimed, a lease that lapsed.
    public var note: String?
}
