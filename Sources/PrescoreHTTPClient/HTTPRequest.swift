/// One outgoing request: a webhook POST or a call to a model server.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The whole transfer, connect included, must finish within this.
    public var timeout: Duration
    /// A longer response body stops the transfer with `responseTooLarge`: a misbehaving server
    /// cannot make the client buffer without end.
    public var maxResponseBytes: Int

    public init(
        method: String = "GET", url: String, headers: [(name: String, value: String)] = [],
        body: [UInt8] = [], timeout: Duration = .seconds(5), maxResponseBytes: Int = 1 << 20
    ) {
        self.maxResponseBytes = maxResponseBytes
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var body: [UInt8]
}
