import Foundation
import Synchronization

/// A TCP relay on 127.0.0.1 in front of a server, that a test can freeze: while paused it accepts
/// connections but moves no byte either way, as a stopped proxy or a black-holed network does
/// (the peers see neither data nor a reset). Every connection through it freezes at once.
public final class PausableTCPProxy: Sendable {
    public let port: Int
    private let listener: Int32
    private let paused = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    private let refusing = Atomic<Bool>(false)

    public init(targetPort: Int) {
        (listener, port) = LoopbackSocket.listen(backlog: 64)
        let fd = listener
        Thread.detachNewThread { [self] in
            defer { close(fd) }
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { return }  // listener shut down
                if refusing.load(ordering: .sequentiallyConsistent) {
                    close(client)
                    continue
                }
                guard let server = LoopbackSocket.connect(port: targetPort) else {
                    close(client)
                    continue
                }
                Thread.detachNewThread { [self] in relay(client, server) }
            }
        }
    }

    /// Stops moving bytes on every connection, old and new.
    public func pause() { paused.store(true, ordering: .sequentiallyConsistent) }

    public func resume() {
        paused.store(false, ordering: .sequentiallyConsistent)
        refusing.store(false, ordering: .sequentiallyConsistent)
    }

    /// Closes every connection and refuses new ones until `resume`, as a server that went down does.
    public func cut() { refusing.store(true, ordering: .sequentiallyConsistent) }

    /// Closes the listener; relays end when their connections do (or at once, when paused).
    public func stop() {
        stopped.store(true, ordering: .sequentiallyConsistent)
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func relay(_ a: Int32, _ b: Int32) {
        defer {
            close(a)
            close(b)
        }
        var fds = [
            pollfd(fd: a, events: Int16(POLLIN), revents: 0),
            pollfd(fd: b, events: Int16(POLLIN), revents: 0),
        ]
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !stopped.load(ordering: .relaxed) && !refusing.load(ordering: .relaxed) {
            if paused.load(ordering: .relaxed) {
                usleep(20_000)
                continue
            }
            guard poll(&fds, 2, 100) >= 0 else { return }
            for (from, to) in [(0, b), (1, a)] where fds[from].revents != 0 {
                let count = read(fds[from].fd, &buffer, buffer.count)
                guard count > 0 else { return }
                var sent = 0
                while sent < count {
                    let written = buffer.withUnsafeBytes { write(to, $0.baseAddress! + sent, count - sent) }
                    guard written > 0 else { return }
                    sent += written
                }
            }
        }
    }
}
