import ArgumentParser
import Foundation
import PrescoreCore

/// `prescore cron …`: cron expressions on their own, to check a schedule before putting it in a job.
struct CronCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cron", abstract: "Work with cron expressions.", subcommands: [CronNextCommand.self])
}

struct CronNextCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "next",
        abstract: "Print the next fire times of a cron expression.",
        discussion: """
            One time a line, strictly after --from, as ISO-8601 with the zone's UTC offset at that \
            instant (2027-03-28T03:00:00+02:00). Daylight saving time follows Vixie cron: see \
            docs/jobs.md. An invalid expression exits 1 with the reason on standard error.
            """)

    @Argument(help: "The expression, e.g. \"15 2 * * *\", @daily or \"@every 30s\".")
    var expression: String

    @Option(name: .customLong("timezone"), help: "The IANA time zone the expression is read in.")
    var timezone = "UTC"

    @Option(
        name: .customLong("from"),
        help: ArgumentHelp(
            "Start after this time: ISO-8601 with an offset or Z, or a local time in --timezone (default: now).",
            valueName: "time"))
    var from: String?

    @Option(name: .customLong("count"), help: "How many fire times.")
    var count = 5

    /// Enough for any listing; a larger count is a typo that would only spin.
    static let maxCount = 100_000

    func validate() throws {
        guard (1...Self.maxCount).contains(count) else {
            throw ValidationError("--count must be 1 to \(Self.maxCount)")
        }
    }

    func run() throws {
        guard let zone = TimeZone(identifier: timezone) else {
            throw CLIError(
                .invalidInput, "unknown time zone '\(timezone)': use an IANA name such as Europe/Berlin")
        }
        let cron: CronExpression
        do {
            cron = try CronExpression(expression)
        } catch let error as CoreError {
            throw CLIError(.invalidInput, error.message)
        }
        let start = try from.map { try Self.parseTime($0, in: zone) } ?? Date()
        let fires = cron.nextFires(after: start, in: zone, count: count)
        if fires.isEmpty { throw CLIError(.invalidInput, "'\(expression)' never fires") }
        for fire in fires { print(FireTimeFormat.string(fire, in: zone)) }
    }

    /// An ISO-8601 time with an offset (`2027-03-28T01:00:00+01:00`, `…Z`), or without one, read as a
    /// local time in `zone` (`2027-03-28T01:00`, seconds optional).
    static func parseTime(_ text: String, in zone: TimeZone) throws -> Date {
        let withOffset = ISO8601DateFormatter()
        if let date = withOffset.date(from: text) { return date }
        let local = DateFormatter()
        local.locale = Locale(identifier: "en_US_POSIX")
        local.timeZone = zone
        for format in ["yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd"] {
            local.dateFormat = format
            if let date = local.date(from: text) { return date }
        }
        throw CLIError(
            .invalidInput, "--from '\(text)' is not an ISO-8601 time such as 2027-03-28T01:00:00+01:00")
    }
}
