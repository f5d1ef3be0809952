import HTTPTypes
import NIOCore
import NIOHTTPTypes
import PrescoreRedis

/// Answers score hits on the event loop: a `GET /v1/scores/{job}/{key}` whose score is in the
/// published run costs one `HGET` and one write, with no hop into Swift concurrency (that hop,
/// NIOAsyncChannel's buffering and Hummingbird's request task made up a third of `serve`'s CPU a
/// hit: 97–103 µs a hit before, 61–76 µs after, interleaved runs at 64 connections). A key the
/// `HGET` finds absent is answered here too, by the job's fallback through a callback (or a 404):
/// 260–317 µs of CPU a miss against 328–367 through Hummingbird. Every other request, and a
/// score request not taken here (a Redis error, a job in an experiment, a pointer not cached or
/// older than its expiry), goes on to Hummingbird unchanged, which answers it in full (a Redis
/// that does not answer thus costs such a request its timeout twice).
///
/// It sits after Hummingbird's `HTTPConnectionStateHandler`, so its answers pass through that
/// handler: the idle timeout, graceful shutdown and request counting see them as any other.
/// `HitConnectionState` keeps answers in request order.
final class ScoreHitHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// What arrived while a lookup was under way, replayed in order after it.
    private enum Pending {
        case part(HTTPRequestPart)
        case event(Any)
        /// A decoding error: Hummingbird answers it with a 400 and closes, after the hit.
        case error(any Error)
    }

    private let service: ScoreService
    private let serverName: String
    private var state = HitConnectionState()
    private var held: (head: HTTPRequest, plan: ScoreService.HitPlan)?
    private var pending: [Pending] = []
    /// A read held back because `pending` is full: issued once it has room again.
    private var readWaiting = false
    /// Parts kept during a lookup before reading stops (a client pipelining without end).
    /// Stopping at every lookup instead cost two `epoll_ctl` calls a hit.
    static let pendingLimit = 64

    init(service: ScoreService, serverName: String) {
        self.service = service
        self.serverName = serverName
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        handle(unwrapInboundIn(data), context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if state.isLookingUp {
            pending.append(.event(event))
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if state.isLookingUp {
            pending.append(.error(error))
        } else {
            context.fireErrorCaught(error)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { state.wroteEnd() }
        context.write(data, promise: promise)
    }

    func read(context: ChannelHandlerContext) {
        if pending.count >= Self.pendingLimit {
            readWaiting = true
        } else {
            context.read()
        }
    }

    private func handle(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        var plan: ScoreService.HitPlan?
        let kind: HitConnectionState.Part
        switch part {
        case .head(let head):
            plan = state.isLookingUp ? nil : service.hitPlan(head)
            kind = .head(isHit: plan != nil)
        case .body: kind = .body
        case .end: kind = .end
        }
        switch state.read(kind) {
        case .forward:
            context.fireChannelRead(wrapInboundOut(part))
        case .hold:
            if case .head(let head) = part, let plan { held = (head, plan) }
        case .forwardHeldThenThis:
            forwardHeld(context: context, end: false)
            context.fireChannelRead(wrapInboundOut(part))
        case .lookUp:
            lookUp(context: context)
        case .buffer:
            pending.append(.part(part))
        }
    }

    private func lookUp(context: ChannelHandlerContext) {
        guard let plan = held?.plan else { return }
        let start = ContinuousClock.now
        service.lookUp(plan).hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
            // A client gone meanwhile: nothing to answer, nothing to hand on.
            guard context.channel.isActive else { return self.drop() }
            let reply = try? result.get().first
            if reply == .null {
                self.miss(plan, since: start, context: context)
                return
            }
            let json = reply.flatMap { self.service.hitJSON(plan, reply: $0) }
            let action = self.state.lookedUp(answered: json != nil)
            if action == .answer, let json {
                self.answerHeld(.ok, json: json, source: .batch, since: start, context: context)
            } else {
                self.forwardHeld(context: context, end: true)
            }
            self.replayPending(context: context)
        }
    }

    /// The key is absent from the run: the job's fallback answers here too (or its absence, 404),
    /// with no hop into Swift concurrency; what arrives meanwhile waits, as during the lookup.
    private func miss(
        _ plan: ScoreService.HitPlan, since start: ContinuousClock.Instant, context: ChannelHandlerContext
    ) {
        service.metrics.miss(plan.served.job.name)
        let answered = context.eventLoop.makePromise(of: ScoreService.Lookup.self)
        service.miss(plan.served, key: plan.key) { answered.succeed($0) }
        answered.futureResult.assumeIsolated().whenSuccess { lookup in
            guard context.channel.isActive else { return self.drop() }
            _ = self.state.lookedUp(answered: true)
            let (status, json, retryAfter) = ServeApplication.answer(lookup)
            self.answerHeld(
                status, json: json, retryAfter: retryAfter, source: lookup.source, since: start,
                context: context)
            self.replayPending(context: context)
        }
    }

    private func drop() {
        held = nil
        pending = []
    }

    /// Hands the held request on to Hummingbird (its head, and its end when it has been read).
    private func forwardHeld(context: ChannelHandlerContext, end: Bool) {
        guard let head = held?.head else { return }
        held = nil
        context.fireChannelRead(wrapInboundOut(.head(head)))
        if end {
            context.fireChannelRead(wrapInboundOut(.end(nil)))
            context.fireChannelReadComplete()
        }
    }

    /// Answers the held request (a hit, or a miss the fallback answered) and counts it.
    private func answerHeld(
        _ status: HTTPResponse.Status, json: String, retryAfter: Int? = nil, source: ScoreAnswer.Source?,
        since start: ContinuousClock.Instant, context: ChannelHandlerContext
    ) {
        held = nil
        let body = context.channel.allocator.buffer(string: json)
        var fields = HTTPFields()
        fields.reserveCapacity(5)
        fields[.contentType] = Problem.contentType(status)
        fields[.contentLength] = String(body.readableBytes)
        fields[.date] = HTTPDateHeader.now
        fields[.server] = serverName
        if let retryAfter { fields[.retryAfter] = String(retryAfter) }
        context.write(
            wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        service.metrics.request(.score, source: source, since: start)
    }

    /// Goes on with what arrived during the lookup, until another lookup starts or nothing is
    /// left; then lets reading resume.
    private func replayPending(context: ChannelHandlerContext) {
        var replayed = false
        while !state.isLookingUp, !pending.isEmpty {
            switch pending.removeFirst() {
            case .part(let part): handle(part, context: context)
            case .event(let event): context.fireUserInboundEventTriggered(event)
            case .error(let error): context.fireErrorCaught(error)
            }
            replayed = true
        }
        if replayed { context.fireChannelReadComplete() }
        if readWaiting, pending.count < Self.pendingLimit {
            readWaiting = false
            context.read()
        }
    }
}
