import Foundation
import Testing

@testable import PrescoreCore

/// Fire times, daylight saving time included, checked against hand-worked examples and against a
/// brute-force walk over every minute.
@Suite struct CronNextFireTests {
    /// The next `count` fire times of `expression` after `from`, formatted as `cron next` prints them.
    func fires(_ expression: String, _ zone: String, from: String, count: Int = 4) throws -> [String] {
        let timeZone = try #require(TimeZone(identifier: zone))
        let start = try #require(ISO8601DateFormatter().date(from: from))
        return try CronExpression(expression).nextFires(after: start, in: timeZone, count: count)
            .map { FireTimeFormat.string($0, in: timeZone) }
    }

    @Test func fixedTimeJobsFireOnceAtTheEndOfASpringGap() throws {
        // Berlin, 2027-03-28: 02:00 becomes 03:00.
        #expect(
            try fires("30 2 * * *", "Europe/Berlin", from: "2027-03-27T12:00:00+01:00", count: 2) == [
                "2027-03-28T03:00:00+02:00", "2027-03-29T02:30:00+02:00",
            ])
        // Every time inside one gap makes one firing.
        #expect(
            try fires("0,15,30,45 2 * * *", "Europe/Berlin", from: "2027-03-28T00:00:00+01:00", count: 2) == [
                "2027-03-28T03:00:00+02:00", "2027-03-29T02:00:00+02:00",
            ])
        // New York, 2027-03-14: 02:00 becomes 03:00. @daily at midnight is untouched.
        #expect(
            try fires("30 2 * * *", "America/New_York", from: "2027-03-13T12:00:00-05:00", count: 2) == [
                "2027-03-14T03:00:00-04:00", "2027-03-15T02:30:00-04:00",
            ])
        // Sydney, 2027-10-03: 02:00 becomes 03:00.
        #expect(
            try fires("15 2 * * *", "Australia/Sydney", from: "2027-10-02T12:00:00+10:00", count: 2) == [
                "2027-10-03T03:00:00+11:00", "2027-10-04T02:15:00+11:00",
            ])
    }

    @Test func fixedTimeJobsFireAtTheFirstOccurrenceOfARepeatedTime() throws {
        // Berlin, 2027-10-31: 03:00 becomes 02:00 again.
        #expect(
            try fires("30 2 * * *", "Europe/Berlin", from: "2027-10-30T12:00:00+02:00", count: 2) == [
                "2027-10-31T02:30:00+02:00", "2027-11-01T02:30:00+01:00",
            ])
        // New York, 2027-11-07: 02:00 becomes 01:00 again.
        #expect(
            try fires("30 1 * * *", "America/New_York", from: "2027-11-06T12:00:00-04:00", count: 2) == [
                "2027-11-07T01:30:00-04:00", "2027-11-08T01:30:00-05:00",
            ])
        // Sydney, 2027-04-04: 03:00 becomes 02:00 again.
        #expect(
            try fires("30 2 * * *", "Australia/Sydney", from: "2027-04-03T12:00:00+11:00", count: 2) == [
                "2027-04-04T02:30:00+11:00", "2027-04-05T02:30:00+10:00",
            ])
    }

    @Test func wildcardJobsRunByRealTime() throws {
        // A gap simply does not happen…
        #expect(
            try fires("*/30 * * * *", "Europe/Berlin", from: "2027-03-28T01:00:00+01:00") == [
                "2027-03-28T01:30:00+01:00", "2027-03-28T03:00:00+02:00", "2027-03-28T03:30:00+02:00",
                "2027-03-28T04:00:00+02:00",
            ])
        // …and a repeated hour fires in both passes.
        #expect(
            try fires("30 * * * *", "Europe/Berlin", from: "2027-10-31T01:00:00+02:00") == [
                "2027-10-31T01:30:00+02:00", "2027-10-31T02:30:00+02:00", "2027-10-31T02:30:00+01:00",
                "2027-10-31T03:30:00+01:00",
            ])
        #expect(
            try fires("@hourly", "America/New_York", from: "2027-11-07T00:30:00-04:00", count: 3) == [
                "2027-11-07T01:00:00-04:00", "2027-11-07T01:00:00-05:00", "2027-11-07T02:00:00-05:00",
            ])
        // An hour list with a wildcard minute is a wildcard job too.
        #expect(
            try fires("*/20 2 * * *", "Australia/Sydney", from: "2027-04-04T01:50:00+11:00", count: 6) == [
                "2027-04-04T02:00:00+11:00", "2027-04-04T02:20:00+11:00", "2027-04-04T02:40:00+11:00",
                "2027-04-04T02:00:00+10:00", "2027-04-04T02:20:00+10:00", "2027-04-04T02:40:00+10:00",
            ])
    }

    @Test func leapYearsNamesAndTheDayRule() throws {
        #expect(
            try fires("0 0 29 feb *", "UTC", from: "2027-01-01T00:00:00Z", count: 2) == [
                "2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00",
            ])
        // Both day fields restricted: the 13th or a Friday.
        #expect(
            try fires("0 9 13 * FRI", "UTC", from: "2026-11-01T00:00:00Z", count: 4) == [
                "2026-11-06T09:00:00+00:00", "2026-11-13T09:00:00+00:00", "2026-11-20T09:00:00+00:00",
                "2026-11-27T09:00:00+00:00",
            ])
        // A day field starting with `*` (even `*/10`): both must match.
        #expect(
            try fires("0 0 */10 * mon", "UTC", from: "2026-01-01T00:00:00Z", count: 3) == [
                "2026-05-11T00:00:00+00:00", "2026-06-01T00:00:00+00:00", "2026-08-31T00:00:00+00:00",
            ])
        #expect(
            try fires("0 0 * * 7", "UTC", from: "2026-11-23T00:00:00Z", count: 1) == [
                "2026-11-29T00:00:00+00:00"
            ])
        #expect(try fires("0 0 30 2 *", "UTC", from: "2026-11-23T00:00:00Z").isEmpty)
    }

    @Test func everyIsAlignedToTheEpochAndStrictlyAfter() throws {
        #expect(
            try fires("@every 30s", "Europe/Berlin", from: "2026-11-23T10:00:00Z", count: 2) == [
                "2026-11-23T11:00:30+01:00", "2026-11-23T11:01:00+01:00",
            ])
        #expect(
            try fires("@every 7m", "UTC", from: "1970-01-01T00:13:59Z", count: 1) == [
                "1970-01-01T00:14:00+00:00"
            ])
    }

    /// Random expressions against a walk over every minute: in UTC any expression; in zones with
    /// daylight saving time, wildcard expressions, which run by real time (every minute whose local
    /// time matches fires).
    @Test(arguments: ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney"])
    func matchesABruteForceMinuteWalk(zone: String) throws {
        let timeZone = try #require(TimeZone(identifier: zone))
        var generator = SplitMix64(seed: 0x5EED ^ UInt64(zone.utf8.count))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var compared = 0
        for _ in 0..<80 {
            let text = Self.randomExpression(&generator, wildcard: zone != "UTC")
            let cron = try CronExpression(text)
            guard case .fields(let minute, let hour, let dom, let month, let dow) = cron.kind else {
                continue
            }
            // Around the year's DST changes, on purpose: March, April, October, November 2027.
            let startDay = [75, 85, 92, 275, 300, 308].randomElement(using: &generator)!
            var cursor = Date(timeIntervalSince1970: 1_798_761_600 + Double(startDay) * 86_400 + 37)
            for _ in 0..<3 {
                // Schedules that fire rarely would make the walk long: a week of minutes is plenty.
                guard let fast = cron.nextFire(after: cursor, in: timeZone),
                    fast.timeIntervalSince(cursor) < 7 * 86_400
                else { break }
                // Brute force: every real minute after `cursor`, until the fast answer.
                var minuteStart = (cursor.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60
                var found: Date?
                while minuteStart <= fast.timeIntervalSince1970 {
                    let date = Date(timeIntervalSince1970: minuteStart)
                    let parts = calendar.dateComponents([.minute, .hour, .day, .month, .weekday], from: date)
                    let domMatch = dom.contains(parts.day!)
                    let dowMatch = dow.contains(parts.weekday! - 1)
                    let dayMatch =
                        (dom.startsWithStar || dow.startsWithStar)
                        ? (domMatch && dowMatch) : (domMatch || dowMatch)
                    if minute.contains(parts.minute!) && hour.contains(parts.hour!)
                        && month.contains(parts.month!)
                        && dayMatch
                    {
                        found = date
                        break
                    }
                    minuteStart += 60
                }
                #expect(found == fast, "\(text) in \(zone) after \(cursor)")
                compared += 1
                cursor = fast
            }
        }
        #expect(compared >= 60, "too few fire times compared: \(compared)")
    }

    static func randomExpression(_ generator: inout SplitMix64, wildcard: Bool) -> String {
        func field(_ range: ClosedRange<Int>, star: Bool) -> String {
            switch Int.random(in: 0..<5, using: &generator) {
            case 0 where star, 1 where star, 4 where star && range.lowerBound == 1: return "*"
            case 2: return "*/\(Int.random(in: 2...7, using: &generator))"
            case 3:
                let low = Int.random(in: range, using: &generator)
                let high = Int.random(in: low...range.upperBound, using: &generator)
                return "\(low)-\(high)"
            default:
                let values = (0..<Int.random(in: 1...3, using: &generator)).map { _ in
                    Int.random(in: range, using: &generator)
                }
                return values.map(String.init).joined(separator: ",")
            }
        }
        // A wildcard job has a minute or hour field starting with `*`.
        let minute = wildcard ? "*/\(Int.random(in: 1...30, using: &generator))" : field(0...59, star: true)
        return [
            minute, field(0...23, star: true), field(1...31, star: true), field(1...12, star: true),
            field(0...6, star: true),
        ].joined(separator: " ")
    }
}
