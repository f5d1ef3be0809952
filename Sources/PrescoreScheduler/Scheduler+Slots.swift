import Foundation
import PrescoreCore
import PrescoreJobs
import PrescorePostgres

extension Scheduler {
    /// Records each job's slots that came due: the one to start as `queued` (or `skipped`, or
    /// replacing the open runs, as `SlotConcurrency` decides), older ones as `missed`. Only jobs whose next
    /// slot has come are looked at, and an idle tick (before the earliest next slot of all jobs)
    /// looks at none: with 10,000 jobs the daemon idles well under 1% of a core.
    func planSlots(_ ledger: RunLedger, now: Date) throws {
        if let earliest = earliestDue, earliest > now { return }
        for (name, var state) in jobs {
            if let due = state.nextDue, due > now { continue }
            let job = state.job.definition
            let zone = job.timeZone
            let cursor = try state.cursor ?? ledger.lastSlot(job: name) ?? now
            if job.scheduling.suspend {
                // Slots of a suspended job are neither run nor recorded.
                state.cursor = max(cursor, now)
            } else {
                let plan = SlotPlan.plan(
                    job.schedule, in: zone, after: cursor, now: now,
                    startingDeadline: job.scheduling.startingDeadline)
                try record(plan, of: state.job, ledger, now: now)
                state.cursor = plan.cursor
            }
            state.nextDue = state.cursor.flatMap { job.schedule.nextFire(after: $0, in: zone) }
            jobs[name] = state
        }
        earliestDue = jobs.values.compactMap(\.nextDue).min() ?? .distantFuture
    }

    private func record(_ plan: SlotPlan, of job: LoadedJob, _ ledger: RunLedger, now: Date) throws {
        let scheduling = job.definition.scheduling
        let deadline = scheduling.startingDeadline.jobFileText
        for slot in plan.missed {
            try ledger.recordSlot(
                job: job.name, scheduledFor: slot, trigger: .schedule, status: .missed,
                reason: "no scheduler started it within starting_deadline (\(deadline))", now: now)
        }
        if !plan.missed.isEmpty {
            let more =
                plan.unlistedMissed.map { $0 > 0 ? " and \($0) older ones" : "" } ?? " and more older ones"
            logger.warning("job \(job.name): \(plan.missed.count) slot(s) missed\(more)")
        }
        guard let (slot, trigger) = plan.start else { return }
        let recorded = try ledger.withJobLock(job.name) {
            () throws(PostgresError) -> SlotConcurrency.Decision? in
            guard try !ledger.slotExists(job: job.name, scheduledFor: slot) else { return nil }
            let decision = SlotConcurrency.decide(
                scheduling.concurrency, slot: slot, open: try ledger.openRuns(job: job.name, now: now))
            var status = RunStatus.queued
            var reason: String?
            switch decision {
            case .start:
                break
            case .skip(let why):
                (status, reason) = (.skipped, why)
            case .startReplacing(let idle, let held, let why):
                try ledger.cancel(idle: idle, held: held, job: job.name, reason: why, now: now)
            }
            try ledger.recordSlot(
                job: job.name, scheduledFor: slot, trigger: trigger, status: status, reason: reason, now: now)
            return decision
        }
        switch recorded {
        case .skip(let reason):
            logger.info("job \(job.name): slot \(FireTimeFormat.string(slot, in: .gmt)) skipped: \(reason)")
            metrics.countRun(job: job.name, status: .skipped)
        case .startReplacing(_, let held, let reason):
            // This instance's own attempts stop now, not at their next renewal.
            for runID in held where active[runID] != nil { feed(runID, .cancelRequested(reason: reason)) }
        case .start, nil:
            break
        }
    }
}
