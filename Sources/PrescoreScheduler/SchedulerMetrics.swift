import Foundation
import Metrics
import PrescoreCore
import Synchronization

/// The scheduler's metrics through swift-metrics; `prescore scheduler` bootstraps a Prometheus
/// backend and serves it at `/metrics`. Names follow Prometheus conventions (`_seconds`, `_total`).
struct SchedulerMetrics: Sendable {
    /// How long after its slot's time a run started: the number to alert on when the scheduler
    /// falls behind.
    func recordStartLag(job: String, seconds: Double) {
        Timer(label: "prescore_run_start_lag_seconds", dimensions: [("job", job)])
            .recordNanoseconds(Int64(seconds * 1e9))
    }

    func countRun(job: String, status: RunStatus) {
        Counter(label: "prescore_runs_total", dimensions: [("job", job), ("status", status.rawValue)])
            .increment()
    }

    func recordDuration(job: String, seconds: Double) {
        Timer(label: "prescore_run_duration_seconds", dimensions: [("job", job)])
            .recordNanoseconds(Int64(seconds * 1e9))
    }

    /// Updated every tick, so a job that stopped succeeding shows it without a run ending.
    func updateSinceLastSuccess(_ lastSuccess: [String: Date], now: Date) {
        for (job, time) in lastSuccess {
            Gauge(label: "prescore_job_seconds_since_last_success", dimensions: [("job", job)])
                .record(max(0, now.timeIntervalSince(time)))
        }
    }
}
