/// The one error type of `PrescoreServer`: what stops `serve` from starting, in a sentence a user
/// can act on.
public struct ServeError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The exposure spool folder cannot be created, or another process holds it.
        case spoolUnusable
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
