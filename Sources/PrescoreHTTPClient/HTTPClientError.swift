/// The one error type of `PrescoreHTTPClient`: the URL (credentials hidden) and what failed.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidRequest
        case timedOut
        case transferFailed
        /// The response body was over the request's `maxResponseBytes`.
        case responseTooLarge
    }

    public var code: Code
    public var message: String
    public var url: String

    public var description: String { "HTTP request to \(url) failed: \(message)" }
}
