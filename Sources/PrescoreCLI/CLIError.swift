/// The one error type of `PrescoreCLI`: problems found while carrying out a command (bad input
/// files, failed checks) that are not already another module's error.
public struct CLIError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case fileNotReadable
        case invalidInput
        case validationFailed
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
