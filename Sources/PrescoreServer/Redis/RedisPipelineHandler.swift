import NIOCore
import PrescoreRedis

/// Commands sent in one write, and the promise of their replies (in order).
struct RedisRequest: Sendable {
    var bytes: ByteBuffer
    var replyCount: Int
    var promise: EventLoopPromise<[RedisReply]>
}

/// One Redis connection on an event loop: requests are written as they come (pipelined) and
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
    }

    private let reader = RESPReader()
    private var waiting = CircularBuffer<Waiting>()
    private let onPush: (@Sendable (RedisReply) -> Void)?
    private let server: String

    init(server: String, onPush: (@Sendable (RedisReply) -> Void)? = nil) {
        self.server = server
        self.onPush = onPush
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        waiting.append(Waiting(promise: request.promise, remaining: request.replyCount, replies: []))
        context.write(wrapOutboundOut(request.bytes), promise: promise)
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
