import Foundation

extension CronExpression {
    /// True for a *fixed-time* schedule (neither the minute nor the hour field starts with `*`):
    /// daylight saving time moves its firings instead of dropping or doubling them (see `nextFire`).
    public var isFixedTime: Bool {
        guard case .fields(let minute, let hour, _, _, _) = kind else { return false }
        return !minute.startsWithStar && !hour.startsWithStar
    }

    /// The first fire time strictly after `date`, reading the schedule in `timeZone`; nil when the
    /// expression can never fire (`0 0 30 2 *`).
    ///
    /// Daylight saving time as Vixie cron does it:
    /// - a fixed-time schedule whose local time does not exist that day (spring forward) fires once,
    ///   at the first instant after the gap (all its times inside one gap make one firing); a local
    ///   time that happens twice (fall back) fires once, at its first occurrence;
    /// - a wildcard schedule runs by real time: times inside a gap do not happen, and in a repeated
    ///   hour it fires in both passes.
    ///
    /// `@every` slots are multiples of the interval since the Unix epoch, whatever the zone.
    public func nextFire(after date: Date, in timeZone: TimeZone) -> Date? {
        let after = date.timeIntervalSince1970
        switch kind {
        case .every(let interval):
            let step = Double(interval.totalMilliseconds / 1_000)
            return Date(timeIntervalSince1970: ((after / step).rounded(.down) + 1) * step)
        case .fields(let minute, let hour, let dayOfMonth, let month, let dayOfWeek):
            let zone = ZoneOffsets(timeZone)
            let fixed = isFixedTime
            let eitherDay = !dayOfMonth.startsWithStar && !dayOfWeek.startsWithStar
            let hours = hour.values
            let minutes = minute.values
            // Local time, in seconds since 1970-01-01T00:00 local, three hours before `after`: no
            // earlier local time can map to an instant after it (DST moves clocks by two hours at
            // most), so the walk starts there.
            let afterSecond = Int64(after.rounded(.down))
            let startLocal = afterSecond + Int64(zone.offset(at: afterSecond)) - 3 * 3_600
            var day = Self.floorDivide(startLocal, 86_400)
            // The earliest second pass of a repeated hour seen so far (wildcard schedules only).
            var secondPass: Int64?
            // 400 years: the Gregorian calendar repeats, so a schedule that has not fired by then never will.
            for _ in 0..<(400 * 366) {
                defer { day += 1 }
                let civil = CivilDate(daysSinceEpoch: day)
                guard month.contains(civil.month) else { continue }
                let domMatches = dayOfMonth.contains(civil.day)
                let dowMatches = dayOfWeek.contains(civil.weekday)
                guard eitherDay ? (domMatches || dowMatches) : (domMatches && dowMatches) else { continue }
                for h in hours {
                    let hourStart = day * 86_400 + Int64(h) * 3_600
                    if hourStart + 3_599 < startLocal { continue }
                    for m in minutes {
                        let local = hourStart + Int64(m) * 60
                        if local < startLocal { continue }
                        let instants = zone.instants(ofLocal: local)
                        let first: Int64
                        switch instants {
                        case .unique(let instant):
                            first = instant
                        case .repeated(let earlier, let later):
                            first = earlier
                            if !fixed, Double(later) > after { secondPass = min(secondPass ?? later, later) }
                        case .skipped(let transition):
                            guard fixed else { continue }
                            first = transition
                        }
                        if Double(first) > after {
                            return Date(timeIntervalSince1970: Double(min(first, secondPass ?? first)))
                        }
                    }
                }
            }
            return secondPass.map { Date(timeIntervalSince1970: Double($0)) }
        }
    }

    /// The next `count` fire times after `date`, in order (fewer when the schedule stops firing).
    public func nextFires(after date: Date, in timeZone: TimeZone, count: Int) -> [Date] {
        var fires: [Date] = []
        var cursor = date
        while fires.count < count, let next = nextFire(after: cursor, in: timeZone) {
            fires.append(next)
            cursor = next
        }
        return fires
    }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor)
    }
}

/// A day of the proleptic Gregorian calendar, from days since 1970-01-01, without `Calendar`
/// (Howard Hinnant's `civil_from_days`): the scheduler computes many fire times, and this is exact
/// and allocation-free.
struct CivilDate: Equatable {
    var year: Int64
    var month: Int
    var day: Int
    /// 0 = Sunday … 6 = Saturday, as cron counts.
    var weekday: Int

    init(daysSinceEpoch days: Int64) {
        let shifted = days + 719_468
        let era = CronExpression.floorDivide(shifted, 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        weekday = Int(((days % 7) + 7 + 4) % 7)  // 1970-01-01 was a Thursday
    }
}

/// A time zone's UTC offsets, asked of Foundation, and how a local wall-clock time maps to instants.
struct ZoneOffsets {
    enum Mapping: Equatable {
        /// The local time happens once.
        case unique(Int64)
        /// It happens twice (clocks fall back): the earlier and the later instant.
        case repeated(Int64, Int64)
        /// It does not happen (clocks spring forward); the instant the gap ends.
        case skipped(Int64)
    }

    let timeZone: TimeZone

    init(_ timeZone: TimeZone) {
        self.timeZone = timeZone
    }

    func offset(at instant: Int64) -> Int {
        timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant)))
    }

    /// The instants whose local time is `local` (seconds since 1970-01-01T00:00 local). The offsets a
    /// day either side cover any single transition near it.
    func instants(ofLocal local: Int64) -> Mapping {
        let before = offset(at: local - 86_400)
        let after = offset(at: local + 86_400)
        let valid = Set([before, after]).map { local - Int64($0) }.filter {
            Int64(offset(at: $0)) == local - $0
        }.sorted()
        switch valid.count {
        case 1: return .unique(valid[0])
        case 2: return .repeated(valid[0], valid[1])
        default:
            // In the gap: the clock jumps from before the gap to after it at the transition, which
            // lies between the instant this time would have with either offset.
            let start = Date(timeIntervalSince1970: Double(local - Int64(max(before, after))))
            let transition = timeZone.nextDaylightSavingTimeTransition(after: start)
            return .skipped(Int64(transition?.timeIntervalSince1970 ?? Double(local - Int64(before))))
        }
    }
}
