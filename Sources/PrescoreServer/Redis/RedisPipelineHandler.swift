import NIOCore
import PrescoreRedis

/// Commands sent in one write, and the promise of their replies (in order).
struct RedisRequest: Sendable {
    var bytes: ByteBuffer
    var replyCount: Int
    var promise: EventLoopPromise<[RedisReply]>
}

/// One Redis connection on an event loop: requests are written as they come (pipelined, flushed
/// together once per loop turn) and
/// replies are matched to them in order, decoded by hiredis's reader (`RESPReader`). A reply that
/// no request waits for is a pub/sub message, handed to `onPush`. When the connection breaks,
/// every waiting request fails at once.
final class RedisPipelineHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Waiting {
        var promise: EventLoopPromise<[RedisReply]>
        var remaining: Int
        var replies: [RedisReply]
        var deadline: NIODeadline
    }

    private let reader = RESPReader()
    private var flushScheduled = false
    private var waiting = CircularBuffer<Waiting>()
    private let onPush: (@Sendable (RedisReply) -> Void)?
    private let server: String
    /// A request without its replies within this closes the connection (they could no longer be
    /// matched); nil for a subscriber, whose messages come when they come.
    private let timeout: TimeAmount?
    private var watchdog: RepeatedTask?

    init(server: String, timeout: TimeAmount?, onPush: (@Sendable (RedisReply) -> Void)? = nil) {
        self.server = server
        self.timeout = timeout
        self.onPush = onPush
    }

    /// One timer per connection, not one per request: every tenth of the timeout it looks at the
    /// oldest waiting request.
    func channelActive(context: ChannelHandlerContext) {
        if let timeout {
            let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
            watchdog = context.eventLoop.scheduleRepeatedTask(
                initialDelay: timeout, delay: TimeAmount.nanoseconds(timeout.nanoseconds / 10)
            ) { _ in
                let (handler, context) = bound.value
                guard let oldest = handler.waiting.first, oldest.deadline < .now() else { return }
                handler.failAll(
                    RedisError(.connectionLost, "no answer within the read timeout", server: handler.server))
                context.close(promise: nil)
            }
        }
        context.fireChannelActive()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        let deadline = NIODeadline.now() + (timeout ?? .hours(24 * 365))
        waiting.append(
            Waiting(promise: request.promise, remaining: request.replyCount, replies: [], deadline: deadline))
        context.write(wrapOutboundOut(request.bytes), promise: promise)
    }

    /// Flushes once per turn of the event loop, however many requests were written in it: the
    /// requests of concurrent readers leave in one `write` system call, which on loopback costs
    /// more than the rest of a request.
    func flush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute {
            self.flushScheduled = false
            context.flush()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        do {
            try bytes.withUnsafeReadableBytes { try reader.feed($0) }
            while let reply = try reader.next() { deliver(reply) }
        } catch {
            failAll(error)
            context.close(promise: nil)
        }
    }

    private func deliver(_ reply: RedisReply) {
        guard var head = waiting.first else {
            onPush?(reply)
            return
        }
        head.replies.append(reply)
        head.remaining -= 1
        if head.remaining == 0 {
            waiting.removeFirst()
            head.promise.succeed(head.replies)
        } else {
            waiting[waiting.startIndex] = head
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        watchdog?.cancel()
        failAll(RedisError(.connectionLost, "the server closed the connection", server: server))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(RedisError(.connectionLost, "\(error)", server: server))
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        while let next = waiting.popFirst() { next.promise.fail(error) }
    }
}
