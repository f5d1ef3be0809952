import Foundation
import Synchronization

/// A one-connection-at-a-time HTTP responder on 127.0.0.1 for client tests: it records each request
/// and answers with a fixed response (or the given responses in turn, the last one repeated), or
/// (when `silent`) accepts and never answers.
public final class LoopbackHTTPServer: Sendable {
    public let port: Int
    private let listener: Int32
    private let requests = Mutex<[String]>([])

    public convenience init(status: Int = 200, body: String = "", silent: Bool = false) {
        self.init(responses: [(status, body)], silent: silent)
    }

    public init(responses: [(status: Int, body: String)], silent: Bool = false) {
        (listener, port) = LoopbackSocket.listen(backlog: 8)
        let fd = listener
        let texts = responses.map { status, body in
            "HTTP/1.1 \(status) X\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        }
        // The accept thread alone closes the listener, after `stop()` has shut it down: closing it in
        // `stop()` would free the descriptor number while this thread may still call `accept` on it,
        // and a parallel test's new listener that reuses the number would have its requests stolen.
        Thread.detachNewThread { [self] in
            var silentClients: [Int32] = []
            defer {
                for client in silentClients { close(client) }
                close(fd)
            }
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { return }  // listener shut down
                if silent {  // keep the connection open, never answer
                    silentClients.append(client)
                    continue
                }
                var received: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while !Self.isComplete(received) {
                    let count = read(client, &buffer, buffer.count)
                    guard count > 0 else { break }
                    received += buffer[0..<count]
                }
                let served = requests.withLock { requests in
                    requests.append(String(decoding: received, as: UTF8.self))
                    return requests.count
                }
                _ = texts[min(served, texts.count) - 1].withCString { write(client, $0, strlen($0)) }
                close(client)
            }
        }
    }

    public var receivedRequests: [String] { requests.withLock { $0 } }

    /// Wakes the accept thread, which then closes the listener (see `init`).
    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private static func isComplete(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return false }
        let header = text[..<end.lowerBound].lowercased()
        let length =
            header.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        return text[end.upperBound...].utf8.count >= length
    }
}
