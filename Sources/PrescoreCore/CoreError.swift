/// The one error type of `PrescoreCore`: what went wrong (`code`), where (`location`), and a
/// message a user can act on. Messages name files, lines and fields, never feature values.
public struct CoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable category, so callers and tests can branch without matching on message text.
    public enum Code: String, Sendable {
        case invalidJobFile
        case invalidCron
        case invalidDuration
        case invalidModel
        case unsupportedModel
        case featureMismatch
        case invalidInput
    }

    public var code: Code
    public var message: String
    public var location: SourceLocation?

    public init(_ code: Code, _ message: String, at location: SourceLocation? = nil) {
        self.code = code
        self.message = message
        self.location = location
    }

    public var description: String {
        guard let location else { return message }
        return "\(location): \(message)"
    }
}

/// Where in an input file an error is: `file:line:column` and, for job files, the dotted field path
/// (`model.path`), so an editor can jump to it and a user knows which key is meant.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var field: String?

    public init(file: String, line: Int? = nil, column: Int? = nil, field: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
    }

    public var description: String {
        var text = file
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        if let field { text += " (\(field))" }
        return text
    }
}
