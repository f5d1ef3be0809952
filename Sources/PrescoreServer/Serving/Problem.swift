import Hummingbird
import PrescoreCore

/// An error answer as RFC 9457 `application/problem+json`: `{"type","title","status","detail"}`.
enum Problem {
    static func response(_ status: HTTPResponse.Status, _ detail: String, retryAfter: Int? = nil) -> Response
    {
        let body = JSONText.object([
            ("type", .string("about:blank")), ("title", .string(status.reasonPhrase)),
            ("status", .number(status.code)), ("detail", .string(detail)),
        ])
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func json(_ text: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
