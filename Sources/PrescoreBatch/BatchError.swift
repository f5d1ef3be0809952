/// The one error type of `PrescoreBatch`: why a run could not start or did not publish.
/// Other modules' errors (PostgreSQL, Redis, a model) arrive wrapped in a run's reason text.
public struct BatchError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The source query's columns do not fit the job (key type, features, binding).
        case sourceMismatch
        /// The source sent rows the run cannot read (a field count that does not match).
        case malformedSource
        /// Redis' `maxmemory` would not hold the run beside the kept runs.
        case insufficientMemory
        /// The run ended failed or cancelled; `message` is the recorded reason.
        case runFailed
        case runCancelled
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
