import Foundation

/// Times as reports and outcomes take them: RFC 3339 (`2026-12-01T10:00:00Z`, fractions and
/// offsets allowed) or a bare date (`2026-12-01`, midnight UTC).
public enum TimeText {
    public static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withFullDate]
        return formatter.date(from: text)
    }
}
