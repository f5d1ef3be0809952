/// One of the five fields of a cron expression, with its range and names.
public enum CronField: Int, Sendable, CaseIterable, CustomStringConvertible {
    case minute, hour, dayOfMonth, month, dayOfWeek

    public var description: String {
        switch self {
        case .minute: "minute"
        case .hour: "hour"
        case .dayOfMonth: "day-of-month"
        case .month: "month"
        case .dayOfWeek: "day-of-week"
        }
    }

    /// The accepted values; day-of-week takes 7 as a second Sunday, as Vixie cron does.
    var range: ClosedRange<Int> {
        switch self {
        case .minute: 0...59
        case .hour: 0...23
        case .dayOfMonth: 1...31
        case .month: 1...12
        case .dayOfWeek: 0...7
        }
    }

    /// Three-letter names (case-insensitive), mapped to their numbers.
    var names: [String: Int] {
        switch self {
        case .month:
            [
                "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
                "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
            ]
        case .dayOfWeek:
            ["sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6]
        default: [:]
        }
    }
}

/// The set of values one field matches, as a bit mask (bit n set: value n matches), plus whether
/// the field's text started with `*`, which the day and daylight-saving rules depend on.
public struct CronFieldSet: Sendable, Equatable {
    public private(set) var bits: UInt64
    public let startsWithStar: Bool

    init(bits: UInt64, startsWithStar: Bool) {
        self.bits = bits
        self.startsWithStar = startsWithStar
    }

    public func contains(_ value: Int) -> Bool { bits & (1 << UInt64(value)) != 0 }

    /// The matched values in ascending order.
    public var values: [Int] { (0..<64).filter(contains) }

    /// Parses one field: `*`, numbers, names, ranges `a-b`, steps `*/n` and `a-b/n` (and `a/n`,
    /// meaning `a-max/n`), joined by commas. Errors name the field and the text at fault.
    static func parse(_ text: String, field: CronField) throws -> CronFieldSet {
        var bits: UInt64 = 0
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            bits |= try parsePart(String(part), field: field, whole: text)
        }
        if field == .dayOfWeek, bits & (1 << 7) != 0 {  // 7 is Sunday too
            bits = (bits & ~(1 << 7)) | 1
        }
        return CronFieldSet(bits: bits, startsWithStar: text.hasPrefix("*"))
    }

    private static func parsePart(_ part: String, field: CronField, whole: String) throws -> UInt64 {
        func fail(_ why: String) -> CoreError {
            CoreError(.invalidCron, "\(field) field '\(whole)': \(why)")
        }
        guard !part.isEmpty else { throw fail("empty list element") }
        let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count <= 2 else { throw fail("more than one '/' in '\(part)'") }
        var step = 1
        if pieces.count == 2 {
            guard let value = Int(pieces[1]) else { throw fail("step '\(pieces[1])' is not a number") }
            guard value > 0 else { throw fail("step 0 in '\(part)'") }
            step = value
        }
        let base = String(pieces[0])
        let lower: Int
        var upper: Int
        if base == "*" {
            lower = field.range.lowerBound
            upper = field == .dayOfWeek ? 6 : field.range.upperBound
        } else {
            let bounds = base.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count <= 2 else { throw fail("'\(base)' is not a value or range") }
            lower = try value(String(bounds[0]), field: field, fail: fail)
            if bounds.count == 2 {
                upper = try value(String(bounds[1]), field: field, fail: fail)
                guard lower <= upper else { throw fail("reversed range '\(base)'") }
            } else {
                upper = pieces.count == 2 ? field.range.upperBound : lower
            }
        }
        var bits: UInt64 = 0
        for value in stride(from: lower, through: upper, by: step) {
            bits |= 1 << UInt64(value)
        }
        return bits
    }

    private static func value(
        _ text: String, field: CronField, fail: (String) -> CoreError
    ) throws -> Int {
        if let number = Int(text) {
            guard field.range.contains(number) else {
                throw fail(
                    "\(number) is out of range \(field.range.lowerBound)-\(field.range.upperBound)")
            }
            return number
        }
        if let named = field.names[text.lowercased()] { return named }
        if field.names.isEmpty { throw fail("'\(text)' is not a number") }
        throw fail("'\(text)' is not a number or a \(field) name")
    }
}
