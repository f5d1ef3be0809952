import Foundation
import PrescoreBatch
import PrescoreCore
import PrescoreJobs
import PrescorePostgres

extension Scheduler {
    /// Claims the runs waiting in PostgreSQL (due slots, manual triggers, retries whose wait is
    /// over, runs whose scheduler died) up to `maxConcurrentRuns`, and starts each.
    func claimRuns(_ ledger: RunLedger, now: Date) throws {
        guard active.count < configuration.maxConcurrentRuns, !jobs.isEmpty else { return }
        for candidate in try ledger.candidates(now: now, jobs: Array(jobs.keys)) {
            guard active.count < configuration.maxConcurrentRuns else { break }
            guard active[candidate.runID] == nil, let job = jobs[candidate.job]?.job else { continue }
            // Stamped with the time of the claim itself, not the tick's start: a long tick must not
            // hand out leases that are already partly spent.
            let claimedAt = clock.now()
            guard
                let claim = try ledger.claim(
                    job: candidate.job, runID: candidate.runID, instance: configuration.instance,
                    lease: configuration.lease, now: claimedAt)
            else { continue }
            start(claim, of: job, now: claimedAt)
        }
    }

    private func start(_ claim: RunLedger.Claim, of job: LoadedJob, now: Date) {
        let cancellation = CancellationFlag()
        active[claim.runID] = ActiveAttempt(
            claim: claim, job: job,
            machine: ScheduledAttempt(
                attempt: claim.attempt, claimedAt: now, lease: configuration.lease,
                retries: job.definition.scheduling.retries),
            cancellation: cancellation,
            nextRenewal: now.addingTimeInterval(configuration.lease.totalSeconds / 3),
            started: ContinuousClock.now)
        if let slot = claim.scheduledFor, claim.attempt == 1 {
            metrics.recordStartLag(job: job.name, seconds: max(0, now.timeIntervalSince(slot)))
        }
        let what =
            claim.scheduledFor.map { "slot \(FireTimeFormat.string($0, in: .gmt))" } ?? claim.trigger.rawValue
        logger.info(
            "job \(job.name): run \(claim.runID) attempt \(claim.attempt) (\(what)) started as \(claim.token)"
        )

        let batch = BatchRun(
            job: job.definition, definitionText: job.text, scorer: job.scorer,
            databaseURL: configuration.databaseURL, redisURL: configuration.redisURL,
            options: BatchRun.Options(
                mode: .attempt(BatchRun.Attempt(runID: claim.runID, token: claim.token))))
        let logger = self.logger
        let runID = claim.runID
        BlockingExecutor.shared.execute("prescore-run-\(job.name)") { [self] in
            let end: AttemptEnd
            do {
                let report = try batch.run(
                    cancellation: cancellation, progress: { _ in },
                    log: { logger.warning("job \(job.name) run \(runID): \($0)") })
                let reason = [report.reason, report.cleanupProblem].compactMap { $0 }.joined(separator: "; ")
                end = AttemptEnd(
                    runID: runID, status: report.status, reason: reason.isEmpty ? nil : reason, report: report
                )
            } catch {
                let status: RunStatus = cancellation.cancellationReason == nil ? .failed : .cancelled
                end = AttemptEnd(runID: runID, status: status, reason: BatchRun.reason(error), report: nil)
            }
            post { $0.ended.append(end) }
        }
    }

    /// Renews each lease a third of the way through it. Without PostgreSQL every renewal fails,
    /// and an attempt whose lease ran out is cancelled (a successor may own the run by then).
    func renewLeases(_ ledger: RunLedger?, now: Date) {
        for (runID, attempt) in active where attempt.outcome == nil && attempt.nextRenewal <= now {
            let event: ScheduledAttempt.Event
            let now = clock.now()  // this renewal's own time, as for claims
            do {
                guard let ledger else { throw PostgresError(.connectionFailed, "not connected", server: "") }
                switch try ledger.renew(attempt.claim, lease: configuration.lease, now: now) {
                case .renewed: event = .renewed(at: now)
                case .cancelRequested(let reason): event = .cancelRequested(reason: reason)
                case .lost: event = .renewRefused(reason: "another scheduler took the run over")
                }
            } catch {
                event = .renewFailed(at: now)
            }
            active[runID]?.nextRenewal = now.addingTimeInterval(configuration.lease.totalSeconds / 3)
            feed(runID, event)
        }
    }

    func attemptEnded(_ end: AttemptEnd) {
        guard active[end.runID] != nil else { return }
        feed(end.runID, .runEnded(end.status, reason: end.reason), report: end.report)
    }

    /// Feeds `event` to the attempt's state machine and performs what it asks at once (a cancel),
    /// or keeps the outcome for `recordOutcomes`.
    func feed(_ runID: Int64, _ event: ScheduledAttempt.Event, report: BatchReport? = nil) {
        guard var attempt = active[runID] else { return }
        let action = attempt.machine.event(event, jitter: Double.random(in: 0..<1))
        switch action {
        case .none:
            break
        case .cancelRun(let reason):
            logger.warning("job \(attempt.job.name) run \(runID): cancelling: \(reason)")
            attempt.cancellation.cancel(reason)
        case .finish, .retry, .abandon:
            attempt.outcome = (action, report)
        }
        active[runID] = attempt
    }

    func cancelAll(reason: String) {
        for runID in active.keys { feed(runID, .cancelRequested(reason: reason)) }
    }

    /// Writes every decided outcome to PostgreSQL; an outcome whose write fails stays for the
    /// next tick, so none is lost while PostgreSQL is away.
    func recordOutcomes(_ ledger: RunLedger, now: Date) throws {
        for runID in active.keys.sorted() {
            guard let attempt = active[runID], let (action, report) = attempt.outcome else { continue }
            let claim = attempt.claim
            let job = attempt.job
            let seconds = (ContinuousClock.now - attempt.started).totalSeconds
            /// Records the attempt's report under the run's new status; false when the lease was lost.
            func record(_ status: RunStatus, notBefore: Date? = nil, error: String?) throws -> Bool {
                try ledger.finish(
                    claim,
                    RunLedger.Outcome(
                        status: status, notBefore: notBefore, counts: report?.counts ?? RunCounts(),
                        modelVersion: job.scorer.version, definition: job.text,
                        cpuSeconds: report?.cpuSeconds,
                        error: error),
                    now: now)
            }
            switch action {
            case .finish(let status, let reason, let alert):
                let recorded = try record(status, error: reason)
                let line =
                    "job \(job.name): run \(runID) \(status.rawValue) after attempt \(claim.attempt)"
                    + (reason.map { ": \($0)" } ?? "")
                    + (recorded ? "" : " (not recorded: the lease was lost)")
                logger.log(level: status == .succeeded ? .info : .error, "\(line)")
                metrics.countRun(job: job.name, status: status)
                metrics.recordDuration(job: job.name, seconds: seconds)
                if status == .succeeded { lastSuccess[job.name] = now }
                if alert, let url = job.definition.scheduling.webhookURL {
                    alerts.enqueue(
                        to: url,
                        Alert(
                            job: job.name, runID: runID, scheduledFor: claim.scheduledFor, status: status,
                            attempts: claim.attempt, error: reason))
                }
            case .retry(let delay, let reason):
                let recorded = try record(
                    .retrying, notBefore: now.addingTimeInterval(delay.totalSeconds), error: reason)
                if recorded {
                    logger.warning(
                        "job \(job.name): run \(runID) attempt \(claim.attempt) failed, retrying in \(delay.jobFileText): \(reason)"
                    )
                    metrics.countRun(job: job.name, status: .retrying)
                } else {
                    try ledger.abandon(claim, reason: reason, now: now)
                    logger.warning(
                        "job \(job.name): run \(runID) attempt \(claim.attempt) failed after another scheduler took the run over: \(reason)"
                    )
                }
            case .abandon(let reason):
                try ledger.abandon(claim, reason: reason, now: now)
                logger.warning("job \(job.name): run \(runID) attempt \(claim.attempt) abandoned: \(reason)")
            case .none, .cancelRun:
                break
            }
            active[runID] = nil
        }
    }
}
