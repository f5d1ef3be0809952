/// The one error type of `PrescoreJobs`: a jobs folder or model file that cannot be used, or a job
/// that is not there. Problems inside a job file are `CoreError`s naming file, line and field.
public struct JobsError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case folderMissing
        case noSuchJob
        case modelFileUnreadable
        case invalidModelFile
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
