import Foundation

/// A bare HTTP/1.1 client over a loopback socket, for tests that must send a path exactly as
/// written (`../`, `%00`, which other clients normalise or refuse) and read the headers back.
public enum RawHTTP {
    public struct Response: Sendable {
        public var status: Int
        /// Header names lowercased.
        public var headers: [String: String]
        public var body: String
    }

    /// Sends one request (`Connection: close`) and reads the whole answer; nil when nothing
    /// answered within `timeout` seconds.
    public static func send(
        port: Int, method: String = "GET", path: String, headers: [String: String] = [:], body: [UInt8] = [],
        timeout: Double = 5
    ) -> Response? {
        guard let fd = LoopbackSocket.connect(port: port) else { return nil }
        defer { close(fd) }
        LoopbackSocket.setTimeouts(fd, seconds: timeout)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        let request = Array((head + "\r\n").utf8) + body
        var sent = 0
        while sent < request.count {
            let count = request[sent...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard count > 0 else { break }  // the server may answer (413) before reading it all
            sent += count
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            received += buffer[0..<count]
        }
        let text = String(decoding: received, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n"), let (status, fields) = parseHead(text[..<end.lowerBound])
        else { return nil }
        var bodyText = String(text[end.upperBound...])
        if fields["transfer-encoding"] == "chunked" { bodyText = dechunk(bodyText) }
        return Response(status: status, headers: fields, body: bodyText)
    }

    /// The status and the fields (names lowercased) of a response head, without its blank line.
    static func parseHead(_ text: Substring) -> (status: Int, fields: [String: String])? {
        let lines = text.split(separator: "\r\n")
        guard let status = lines.first?.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
            return nil
        }
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        return (status, fields)
    }

    static func dechunk(_ text: String) -> String {
        var rest = Substring(text)
        var out = ""
        while let lineEnd = rest.range(of: "\r\n"), let size = Int(rest[..<lineEnd.lowerBound], radix: 16),
            size > 0
        {
            let start = lineEnd.upperBound
            let chunk = rest.utf8[start...].prefix(size)
            out += String(decoding: chunk, as: UTF8.self)
            rest = rest[rest.utf8.index(start, offsetBy: size)...].dropFirst(2)
        }
        return out
    }
}
