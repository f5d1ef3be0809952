import Foundation

/// Fire times as ISO-8601 local times with the zone's UTC offset at that instant
/// (`2027-03-28T03:00:00+02:00`): what `prescore cron next` prints, and unambiguous on both sides of
/// a daylight-saving change.
public enum FireTimeFormat {
    public static func string(_ date: Date, in timeZone: TimeZone) -> String {
        let instant = Int64(date.timeIntervalSince1970.rounded(.down))
        let offset = timeZone.secondsFromGMT(for: date)
        let local = instant + Int64(offset)
        let day = CronExpression.floorDivide(local, 86_400)
        let civil = CivilDate(daysSinceEpoch: day)
        let seconds = local - day * 86_400
        func two(_ value: some BinaryInteger) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let sign = offset < 0 ? "-" : "+"
        let magnitude = abs(offset)
        return "\(civil.year)-\(two(civil.month))-\(two(civil.day))T\(two(seconds / 3_600)):"
            + "\(two(seconds / 60 % 60)):\(two(seconds % 60))\(sign)\(two(magnitude / 3_600)):\(two(magnitude / 60 % 60))"
    }
}
