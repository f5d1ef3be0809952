import Foundation

/// A parsed schedule: five cron fields (Vixie cron's grammar, names and macros), or `@every`, a
/// documented extension for short intervals whose slots are aligned to the Unix epoch.
///
/// This type only parses and classifies; computing fire times in a time zone is the scheduler's.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case fields(
            minute: CronFieldSet, hour: CronFieldSet, dayOfMonth: CronFieldSet,
            month: CronFieldSet, dayOfWeek: CronFieldSet)
        /// `@every 30s`: fire at every multiple of the interval since the Unix epoch.
        case every(Duration)
    }

    /// The text as written, for messages and listings.
    public let text: String
    public let kind: Kind

    private static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
        "@hourly": "0 * * * *",
    ]

    /// Parses `text`; throws `CoreError.invalidCron` naming the field and the text at fault.
    public init(_ text: String) throws {
        self.text = text
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.lowercased().hasPrefix("@every") {
            let argument = trimmed.dropFirst("@every".count).trimmingCharacters(in: .whitespaces)
            let interval: Duration
            do {
                interval = try DurationParser.parse(argument)
            } catch let error as CoreError {
                throw CoreError(.invalidCron, "'\(text)': \(error.message)")
            }
            guard interval >= .seconds(1), interval.totalMilliseconds % 1_000 == 0 else {
                throw CoreError(.invalidCron, "'\(text)': @every takes whole seconds, at least 1s")
            }
            kind = .every(interval)
            return
        }
        var fieldsText = trimmed
        if trimmed.hasPrefix("@") {
            guard let expansion = Self.macros[trimmed.lowercased()] else {
                throw CoreError(
                    .invalidCron,
                    "unknown macro '\(trimmed)': use @yearly, @annually, @monthly, @weekly, @daily, "
                        + "@midnight, @hourly or @every DURATION")
            }
            fieldsText = expansion
        }
        let parts = fieldsText.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard parts.count == 5 else {
            throw CoreError(
                .invalidCron,
                "'\(text)' has \(parts.count) fields; cron takes 5: minute hour day-of-month month "
                    + "day-of-week")
        }
        kind = .fields(
            minute: try .parse(parts[0], field: .minute),
            hour: try .parse(parts[1], field: .hour),
            dayOfMonth: try .parse(parts[2], field: .dayOfMonth),
            month: try .parse(parts[3], field: .month),
            dayOfWeek: try .parse(parts[4], field: .dayOfWeek))
    }

    public var description: String { text }
}
