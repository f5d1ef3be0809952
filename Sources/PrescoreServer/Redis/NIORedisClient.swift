import Foundation
import NIOCore
import NIOPosix
import PrescoreRedis
import Synchronization

/// Redis for the read path, without blocking: a few SwiftNIO connections on the server's event
/// loops, each pipelining every request sent to it (many requests in flight on one connection).
/// A connection that breaks fails its waiting requests and is made anew by the next request; a
/// request without an answer within `timeout` closes its connection (its replies could no longer
/// be matched). AUTH and SELECT follow `RedisURL`.
public final class NIORedisClient: Sendable {
    public let url: RedisURL
    let group: any EventLoopGroup
    let timeout: TimeAmount
    private let slots: [ConnectionSlot]
    private let next = Atomic<Int>(0)

    public init(
        url: RedisURL, group: any EventLoopGroup, connections: Int = 4, timeout: Duration = .seconds(1)
    ) {
        self.url = url
        self.group = group
        self.timeout = .nanoseconds(
            Int64(timeout.components.seconds) * 1_000_000_000
                + timeout.components.attoseconds / 1_000_000_000)
        slots = (0..<max(1, connections)).map { _ in ConnectionSlot() }
    }

    /// Sends `commands` in one write and returns their replies in order (error replies in place).
    public func pipeline(_ commands: [[[UInt8]]]) async throws -> [RedisReply] {
        try await send(commands).get()
    }

    /// As `pipeline`, for callers that do not wait (a write-back from a blocking thread).
    public func send(_ commands: [[[UInt8]]]) -> EventLoopFuture<[RedisReply]> {
        send(replies: commands.count) { buffer in
            for command in commands { Self.encode(command, into: &buffer) }
        }
    }

    /// One command of text arguments, encoded straight into the connection's buffer: the read
    /// path's `HGET`, with no intermediate arrays.
    public func command(_ arguments: String...) async throws -> RedisReply {
        try await send(replies: 1) { buffer in Self.encode(arguments, into: &buffer) }.get()[0]
    }

    /// Sends what `encode` writes (`replies` commands) in one write.
    func send(replies: Int, _ encode: @escaping @Sendable (inout ByteBuffer) -> Void) -> EventLoopFuture<
        [RedisReply]
    > {
        let slot = slots[next.wrappingAdd(1, ordering: .relaxed).oldValue % slots.count]
        if let channel = slot.readyChannel {  // the usual case: no future to chain through
            return Self.write(replies: replies, encode, on: channel)
        }
        return connection(slot).flatMap { Self.write(replies: replies, encode, on: $0) }
    }

    private static func write(
        replies: Int, _ encode: (inout ByteBuffer) -> Void, on channel: any Channel
    ) -> EventLoopFuture<[RedisReply]> {
        var buffer = channel.allocator.buffer(capacity: 128)
        encode(&buffer)
        let promise = channel.eventLoop.makePromise(of: [RedisReply].self)
        // A write that never reaches the connection (closed meanwhile, its handler already gone or
        // its waiting requests already failed) gets no reply: fail it, or its caller waits forever.
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { promise.fail($0) }
        channel.writeAndFlush(
            RedisRequest(bytes: buffer, replyCount: replies, promise: promise), promise: written)
        return promise.futureResult
    }

    public func command(_ arguments: [String]) async throws -> RedisReply {
        try await send(replies: 1) { buffer in Self.encode(arguments, into: &buffer) }.get()[0]
    }

    /// Opens a connection of its own that subscribes to `channel` and hands each message's payload
    /// to `onMessage`; `onClose` is called when it breaks (the caller subscribes again).
    public func subscribe(
        _ channelName: String, onMessage: @escaping @Sendable (String) -> Void,
        onClose: @escaping @Sendable () -> Void
    ) async throws -> any Channel {
        let channel = try await connect(onPush: { reply in
            guard case .array(let parts) = reply, parts.count == 3, parts[0].string == "message",
                let payload = parts[2].string
            else { return }
            onMessage(payload)
        }).get()
        channel.closeFuture.whenComplete { _ in onClose() }
        _ = try await Self.write(
            replies: 1, { Self.encode(["SUBSCRIBE", channelName], into: &$0) }, on: channel
        ).get()
        return channel
    }

    /// Closes every connection.
    public func close() async {
        for slot in slots {
            if let channel = slot.take() { try? await channel.close() }
        }
    }

    private func connection(_ slot: ConnectionSlot) -> EventLoopFuture<any Channel> {
        let (future, made) = slot.state.withLock { state -> (EventLoopFuture<any Channel>, Bool) in
            switch state {
            case .ready(let channel) where channel.isActive:
                return (channel.eventLoop.makeSucceededFuture(channel), false)
            case .connecting(let future):
                return (future, false)
            case .idle, .ready:
                let future = connect(onPush: nil)
                state = .connecting(future)
                return (future, true)
            }
        }
        // Outside the lock: on an event loop, a callback on a completed future runs at once.
        if made {
            future.whenComplete { result in
                slot.state.withLock { state in
                    guard case .connecting = state else { return }
                    state = (try? result.get()).map { .ready($0) } ?? .idle
                }
            }
        }
        return future
    }

    private func connect(onPush: (@Sendable (RedisReply) -> Void)?) -> EventLoopFuture<any Channel> {
        let server = url.description
        let setUp = setUpCommands
        let connectTimeout = timeout
        return ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        RedisPipelineHandler(
                            server: server, timeout: onPush == nil ? connectTimeout : nil, onPush: onPush))
                }
            }
            .connect(host: url.host, port: url.port)
            .flatMap { channel in
                guard !setUp.isEmpty else { return channel.eventLoop.makeSucceededFuture(channel) }
                return Self.write(
                    replies: setUp.count,
                    { buffer in for command in setUp { Self.encode(command, into: &buffer) } },
                    on: channel
                ).flatMapThrowing { replies in
                    if let failure = replies.first(where: { if case .error = $0 { true } else { false } }) {
                        channel.close(promise: nil)
                        throw RedisError(.connectionFailed, "\(failure)", server: server)
                    }
                    return channel
                }
            }
    }

    private var setUpCommands: [[[UInt8]]] {
        var commands: [[String]] = []
        if let password = url.password { commands.append(["AUTH"] + [url.user, password].compactMap { $0 }) }
        if url.database != 0 { commands.append(["SELECT", String(url.database)]) }
        return commands.map { $0.map { Array($0.utf8) } }
    }

    static func encode(_ arguments: [String], into buffer: inout ByteBuffer) {
        buffer.writeString("*\(arguments.count)\r\n")
        for argument in arguments {
            buffer.writeString("$\(argument.utf8.count)\r\n")
            buffer.writeString(argument)
            buffer.writeString("\r\n")
        }
    }

    static func encode(_ arguments: [[UInt8]], into buffer: inout ByteBuffer) {
        buffer.writeString("*\(arguments.count)\r\n")
        for argument in arguments {
            buffer.writeString("$\(argument.count)\r\n")
            buffer.writeBytes(argument)
            buffer.writeString("\r\n")
        }
    }
}

/// One of the client's connections: made on first use, made anew after it broke.
final class ConnectionSlot: Sendable {
    enum State {
        case idle
        case connecting(EventLoopFuture<any Channel>)
        case ready(any Channel)
    }

    let state = Mutex(State.idle)

    /// The open connection when it is ready to use.
    var readyChannel: (any Channel)? {
        state.withLock { state in
            if case .ready(let channel) = state, channel.isActive { return channel }
            return nil
        }
    }

    /// The open connection, if any, leaving the slot idle.
    func take() -> (any Channel)? {
        state.withLock { state in
            defer { state = .idle }
            if case .ready(let channel) = state { return channel }
            return nil
        }
    }
}
