import Foundation

/// What the scheduler does with a job's slots that came due since it last looked: start the most
/// recent one if it is within `starting_deadline` (once), and record the older ones as missed,
/// the way Kubernetes CronJob catches up after its controller was down.
///
/// Pure: the caller passes the times. Every instance computes the same slots (they depend on the
/// schedule and zone only), which is what lets PostgreSQL's unique `(job, scheduled_for)` make
/// one run of each.
public struct SlotPlan: Sendable, Equatable {
    /// The slot to start, with how it is triggered: `schedule` when it is on time, `catch-up` when
    /// it is late by more than `onTimeTolerance` or follows missed slots.
    public var start: (slot: Date, trigger: RunTrigger)?
    /// Older due slots, oldest first, at most `missedLimit` of them (the most recent).
    public var missed: [Date]
    /// Missed slots not listed in `missed`; `nil` when there were too many to count.
    public var unlistedMissed: Int?
    /// The latest due slot: where the next plan starts looking.
    public var cursor: Date

    /// A slot started later than this after its time is a catch-up, not a regular firing.
    public static let onTimeTolerance: TimeInterval = 60
    /// Slots recorded as `missed` per plan: a job with a 30 s schedule that was down for a week has
    /// 20,000, and a row each would only bury the history.
    public static let missedLimit = 100
    /// Slots walked one by one before jumping to `now − starting_deadline`.
    static let walkLimit = 10_000

    public static func == (lhs: SlotPlan, rhs: SlotPlan) -> Bool {
        lhs.start?.slot == rhs.start?.slot && lhs.start?.trigger == rhs.start?.trigger
            && lhs.missed == rhs.missed && lhs.unlistedMissed == rhs.unlistedMissed
            && lhs.cursor == rhs.cursor
    }

    /// Plans the slots of `schedule` in `timeZone` after `cursor` up to and including `now`.
    public static func plan(
        _ schedule: CronExpression, in timeZone: TimeZone, after cursor: Date, now: Date,
        startingDeadline: Duration
    ) -> SlotPlan {
        var due: [Date] = []
        var total = 0
        var counted = true
        var time = cursor
        var walked = 0
        let deadlineStart = now.addingTimeInterval(-startingDeadline.totalSeconds)
        while let next = schedule.nextFire(after: time, in: timeZone), next <= now {
            total += 1
            walked += 1
            due.append(next)
            if due.count > missedLimit + 1 { due.removeFirst(due.count - missedLimit - 1) }
            time = next
            if walked == walkLimit, time < deadlineStart {
                // Too far behind to walk: what lies between here and the deadline is missed either
                // way, so jump there; the count of what was skipped is unknown.
                counted = false
                time = deadlineStart
                walked = 0
            }
        }
        guard let latest = due.last else {
            return SlotPlan(start: nil, missed: [], unlistedMissed: 0, cursor: cursor)
        }
        var plan = SlotPlan(start: nil, missed: [], unlistedMissed: 0, cursor: latest)
        var older = Array(due.dropLast())
        if latest >= deadlineStart {
            let late = now.timeIntervalSince(latest) > onTimeTolerance || total > 1
            plan.start = (latest, late ? .catchUp : .schedule)
        } else {
            older.append(latest)
        }
        let olderTotal = total - (plan.start == nil ? 0 : 1)
        plan.missed = Array(older.suffix(missedLimit))
        plan.unlistedMissed = counted ? olderTotal - plan.missed.count : nil
        return plan
    }
}
