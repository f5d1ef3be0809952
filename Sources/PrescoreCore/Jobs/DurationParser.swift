/// Parses durations as job files write them: a number and a unit (`ms`, `s`, `m`, `h`, `d`), and
/// compounds of those largest unit first (`1h30m`, `2d12h`, `1.5s`).
///
/// Units must not repeat or go up (`30m1h` is refused) because such a value is almost always a typo.
/// A duration longer than `maximum` (100 years) is refused with an error rather than overflowing:
/// no setting needs more, and every later sum (a lease added to a time, a TTL) stays in range.
public enum DurationParser {
    /// The longest duration any setting accepts: 36500d.
    public static let maximum = Duration.seconds(36_500 * 86_400)

    private static let units: [(suffix: String, milliseconds: Double)] = [
        ("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
    ]

    /// Returns the duration, or throws `CoreError.invalidDuration` with a hint of the accepted form.
    public static func parse(_ text: String) throws -> Duration {
        let hint = "expected a number with a unit ms, s, m, h or d, e.g. 50ms, 30s, 1h30m"
        guard !text.isEmpty else { throw CoreError(.invalidDuration, "empty duration: \(hint)") }
        var rest = Substring(text)
        var totalMilliseconds = 0.0
        var lastUnitSize = Double.infinity
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, let value = Double(number) else {
                throw CoreError(.invalidDuration, "invalid duration '\(text)': \(hint)")
            }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { $0.isASCII && $0.isLetter }
            guard let unit = units.first(where: { $0.suffix == unitText }) else {
                let what = unitText.isEmpty ? "a unit is missing" : "unknown unit '\(unitText)'"
                throw CoreError(.invalidDuration, "invalid duration '\(text)': \(what); \(hint)")
            }
            guard unit.milliseconds < lastUnitSize else {
                throw CoreError(
                    .invalidDuration,
                    "invalid duration '\(text)': units must go from largest to smallest, each once")
            }
            lastUnitSize = unit.milliseconds
            totalMilliseconds += value * unit.milliseconds
            guard totalMilliseconds <= Double(maximum.totalMilliseconds) else {
                throw CoreError(
                    .invalidDuration, "duration '\(text)' is out of range: at most \(maximum.jobFileText)")
            }
            rest = rest.dropFirst(unitText.count)
        }
        return .milliseconds(Int64(totalMilliseconds.rounded()))
    }
}

extension Duration {
    /// Whole milliseconds, as job files, logs and TTL commands use them.
    public var totalMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }

    /// Seconds with their fraction, for rates and elapsed times.
    public var totalSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// The job-file spelling (`1h30m`, `30s`, `250ms`): what messages show, so that a user
    /// recognises the value they wrote.
    public var jobFileText: String {
        var rest = totalMilliseconds
        guard rest > 0 else { return "0s" }
        var text = ""
        for (unit, size) in [
            ("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1),
        ]
        where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text
    }
}
