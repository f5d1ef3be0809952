import Foundation

/// One kept-alive HTTP/1.1 connection over a loopback socket: requests written exactly as given
/// (several at once, to pipeline them), answers read back one at a time by their length. For
/// tests of what a connection that stays open sees: answer order, `Connection: close`, the idle
/// timeout.
public final class RawHTTPConnection {
    private let fd: Int32
    private var received: [UInt8] = []

    /// Nil when nothing listens on `port`. Every read and write waits at most `timeout` seconds.
    public init?(port: Int, timeout: Double = 5) {
        guard let fd = LoopbackSocket.connect(port: port) else { return nil }
        self.fd = fd
        LoopbackSocket.setTimeouts(fd, seconds: timeout)
    }

    deinit { close(fd) }

    /// A GET without `Connection: close`, as text to `send`.
    public static func get(_ path: String, headers: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(headers)\r\n"
    }

    /// Writes `text` in one call; whether all of it was written.
    @discardableResult
    public func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            == bytes.count
    }

    /// The next answer, read by its `Content-Length` (or its chunks); nil when the connection
    /// closed or nothing came within the timeout.
    public func response() -> RawHTTP.Response? {
        let separator = Array("\r\n\r\n".utf8)
        guard let headEnd = wait(for: { self.received.firstRange(of: separator)?.upperBound }) else {
            return nil
        }
        guard
            let (status, fields) = RawHTTP.parseHead(
                Substring(decoding: received[..<(headEnd - 4)], as: UTF8.self))
        else { return nil }
        let bodyEnd: Int?
        if fields["transfer-encoding"] == "chunked" {
            bodyEnd = wait { self.received[headEnd...].firstRange(of: Array("0\r\n\r\n".utf8))?.upperBound }
        } else {
            let length = Int(fields["content-length"] ?? "0") ?? 0
            bodyEnd = wait { self.received.count >= headEnd + length ? headEnd + length : nil }
        }
        guard let bodyEnd else { return nil }
        var body = String(decoding: received[headEnd..<bodyEnd], as: UTF8.self)
        if fields["transfer-encoding"] == "chunked" { body = RawHTTP.dechunk(body) }
        received.removeFirst(bodyEnd)
        return RawHTTP.Response(status: status, headers: fields, body: body)
    }

    /// Whether the server closed the connection (a read sees its end) within the timeout.
    public func closedByServer() -> Bool {
        var byte: UInt8 = 0
        while true {
            let count = recv(fd, &byte, 1, 0)
            if count == 0 { return true }
            if count < 0 { return false }
            received.append(byte)
        }
    }

    /// Reads until `found` returns a position in what was received; nil at the end or timeout.
    private func wait(for found: () -> Int?) -> Int? {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let position = found() { return position }
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { return nil }
            received += buffer[0..<count]
        }
    }
}
