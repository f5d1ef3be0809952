import Foundation

/// A statement whose parameters are written where they are used: `"… WHERE job = \(job)"` binds
/// `job` as a parameter (never spliced into the SQL) and numbers it. Callers cannot misorder
/// positional parameters, and a fragment interpolated into another statement (a shared condition)
/// brings its own parameters instead of assuming what `$2` is.
///
/// Values are sent as text; casts are written in the SQL (`\(lease)::float8`). `\(time: date)`
/// binds a time as `to_timestamp(…)`.
public struct PostgresStatement: Sendable, ExpressibleByStringInterpolation {
    enum Segment: Sendable {
        case text(String)
        case parameter(String?)
    }

    var segments: [Segment]

    public init(stringLiteral value: String) {
        segments = [.text(value)]
    }

    public init(stringInterpolation: StringInterpolation) {
        segments = stringInterpolation.segments
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var segments: [Segment] = []

        public init(literalCapacity: Int, interpolationCount: Int) {}

        public mutating func appendLiteral(_ literal: String) { segments.append(.text(literal)) }

        /// A text parameter; nil is NULL.
        public mutating func appendInterpolation(_ value: String?) { segments.append(.parameter(value)) }

        public mutating func appendInterpolation(_ value: Int64) {
            segments.append(.parameter(String(value)))
        }

        public mutating func appendInterpolation(_ value: Int) { segments.append(.parameter(String(value))) }

        public mutating func appendInterpolation(_ value: Double?) {
            segments.append(.parameter(value.map { String($0) }))
        }

        /// `to_timestamp(seconds)`, or NULL.
        public mutating func appendInterpolation(time: Date?) {
            segments.append(.text("to_timestamp("))
            segments.append(.parameter(time.map { String($0.timeIntervalSince1970) }))
            segments.append(.text("::float8)"))
        }

        /// SQL text spliced as it is: only for names the code itself makes (`y0`, a column
        /// alias), never for a value or anything a user wrote.
        public mutating func appendInterpolation(raw text: String) { segments.append(.text(text)) }

        /// Another statement's text and parameters, renumbered into this one.
        public mutating func appendInterpolation(_ fragment: PostgresStatement) {
            segments += fragment.segments
        }
    }

    /// The SQL with `$1`, `$2`, … in order of appearance, and the parameters in that order.
    public var rendered: (sql: String, parameters: [String?]) {
        var sql = ""
        var parameters: [String?] = []
        for segment in segments {
            switch segment {
            case .text(let text):
                sql += text
            case .parameter(let value):
                parameters.append(value)
                sql += "$\(parameters.count)"
            }
        }
        return (sql, parameters)
    }
}

extension PostgresConnection {
    /// Runs `statement` with its bound parameters (see `execute(_:_:)`). Named apart from
    /// `execute` on purpose: an interpolated literal passed to `execute` would be a `String`, its
    /// values spliced into the SQL.
    @discardableResult
    public func run(_ statement: PostgresStatement) throws(PostgresError) -> PostgresResult {
        let (sql, parameters) = statement.rendered
        return try execute(sql, parameters)
    }
}
