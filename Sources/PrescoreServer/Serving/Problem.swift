import Hummingbird
import PrescoreCore

/// An error answer as RFC 9457 `application/problem+json`: `{"type","title","status","detail"}`.
enum Problem {
    static func response(_ status: HTTPResponse.Status, _ detail: String, retryAfter: Int? = nil) -> Response
    {
        response(status, json: body(status, detail), retryAfter: retryAfter)
    }

    /// The problem's JSON alone.
    static func body(_ status: HTTPResponse.Status, _ detail: String) -> String {
        JSONText.object([
            ("type", .string("about:blank")), ("title", .string(status.reasonPhrase)),
            ("status", .number(status.code)), ("detail", .string(detail)),
        ])
    }

    /// A JSON answer: a problem unless the status is 200.
    static func response(_ status: HTTPResponse.Status, json: String, retryAfter: Int? = nil) -> Response {
        var headers: HTTPFields = [.contentType: contentType(status)]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    static func contentType(_ status: HTTPResponse.Status) -> String {
        status == .ok ? "application/json" : "application/problem+json"
    }

    static func json(_ text: String) -> Response { response(.ok, json: text) }
}
