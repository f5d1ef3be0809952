import Foundation

/// A model served by a model server speaking the Open Inference Protocol (KServe v2) over REST:
/// Triton, KServe, Seldon MLServer. Rows go as one input tensor of shape [rows, features] to
/// `POST {url}/v2/models/{name}[/versions/{version}]/infer`; a row's score is the output tensor's
/// value for it. The keys are a contract (docs/jobs.md "Remote models").
public struct RemoteModel: Sendable, Equatable {
    public enum Datatype: String, Sendable, Equatable {
        case fp32 = "FP32"
        case fp64 = "FP64"
    }

    /// The server's base URL, `http://` or `https://`.
    public var url: String
    public var name: String
    /// The model version on the server (in the path); nil: the server's default.
    public var version: String?
    /// The input tensor's columns, in order: bound to the query's columns by name.
    public var features: [String]
    public var inputName = "input-0"
    public var datatype = Datatype.fp32
    /// The output tensor to read; nil: the response's first.
    public var outputName: String?
    /// Rows a request carries, and requests in flight at once (batch runs).
    public var batchSize = 256
    public var concurrency = 4
    /// How long one request may take.
    public var timeout: Duration = .seconds(5)
    /// Retries of a request answered 429 or 5xx, or not answered, with backoff and jitter.
    public var retries = 2
    /// Header names and values; a value may reference an environment variable as `${NAME}`,
    /// resolved when the model is loaded (the file never holds the secret, and no message shows it).
    public var headers: [Header] = []

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(url: String, name: String, version: String? = nil, features: [String]) {
        self.url = url
        self.name = name
        self.version = version
        self.features = features
    }

    /// `{url}/v2/models/{name}[/versions/{version}]/infer`.
    public var inferURL: String {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/v2/models/" + Self.pathSegment(name)
            + (version.map { "/versions/" + Self.pathSegment($0) } ?? "") + "/infer"
    }

    /// The version a run records: the server's model version, else its name.
    public var recordedVersion: String { version.map { "\(name)@\($0)" } ?? name }

    static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(
            withAllowedCharacters: .urlPathAllowed.subtracting(.init(charactersIn: "/")))
            ?? text
    }

    /// The headers with every `${NAME}` replaced from `environment`; a variable that is not set
    /// is an error naming the header and the variable (never a value).
    public func resolvedHeaders(environment: [String: String]) throws(CoreError) -> [Header] {
        var resolved: [Header] = []
        for header in headers {
            var value = ""
            var rest = Substring(header.value)
            while let start = rest.range(of: "${") {
                value += rest[..<start.lowerBound]
                guard let end = rest[start.upperBound...].firstIndex(of: "}") else { break }
                let variable = String(rest[start.upperBound..<end])
                guard let found = environment[variable] else {
                    throw CoreError(
                        .invalidModel,
                        "model.headers.\(header.name) uses the environment variable \(variable), which is not set"
                    )
                }
                value += found
                rest = rest[rest.index(after: end)...]
            }
            resolved.append(Header(name: header.name, value: value + rest))
        }
        return resolved
    }
}
