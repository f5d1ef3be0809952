import CHiredis
import Glibc
import Synchronization

/// One hiredis connection (blocking). As with PostgreSQL, callers in async code run it on a
/// dedicated thread pool. The `redisContext` pointer never leaves this type; the mutex serialises use.
public final class RedisConnection: Sendable {
    private let context: Mutex<UnsafeMutablePointer<redisContext>>
    public let url: RedisURL

    /// Connects, authenticates (`AUTH [user] password`) and selects the URL's database.
    /// `timeout` bounds the connect and every later command.
    public init(url: RedisURL, timeout: Duration = .seconds(5)) throws(RedisError) {
        self.url = url
        let (seconds, attoseconds) = timeout.components
        let interval = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        guard let raw = redisConnectWithTimeout(url.host, Int32(url.port), interval) else {
            throw RedisError(.connectionFailed, "out of memory", server: url.description)
        }
        if raw.pointee.err != 0 {
            let message = Self.contextError(raw)
            redisFree(raw)
            throw RedisError(.connectionFailed, message, server: url.description)
        }
        redisSetTimeout(raw, interval)
        context = Mutex(raw)
        if let password = url.password {
            try setUp(["AUTH"] + [url.user, password].compactMap { $0 })
        }
        if url.database != 0 { try setUp(["SELECT", String(url.database)]) }
    }

    deinit {
        context.withLock { redisFree($0) }
    }

    /// Sends one command and waits for its reply. An error reply is returned as `.error`.
    @discardableResult
    public func command(_ arguments: [[UInt8]]) throws(RedisError) -> RedisReply {
        try pipeline([arguments])[0]
    }

    @discardableResult
    public func command(_ arguments: String...) throws(RedisError) -> RedisReply {
        try command(arguments.map { Array($0.utf8) })
    }

    /// Sends several commands in one write and reads their replies in order: one round trip for all.
    /// Error replies are returned in place (as `.error`), so one bad command does not hide the others.
    public func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisReply] {
        try context.withLock { context throws(RedisError) in
            for arguments in commands {
                let status = Self.withArgv(arguments) { count, argv, lengths in
                    redisAppendCommandArgv(context, count, argv, lengths)
                }
                guard status == REDIS_OK else { throw lost(context) }
            }
            var replies: [RedisReply] = []
            replies.reserveCapacity(commands.count)
            for _ in commands {
                var raw: UnsafeMutableRawPointer?
                guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw lost(context) }
                let reply = raw.assumingMemoryBound(to: redisReply.self)
                replies.append(Self.convert(reply))
                freeReplyObject(raw)
            }
            return replies
        }
    }

    /// Sends the commands of `buffer` in one write and reads their replies, keeping only the error
    /// replies (with the index of their command): the fast path of the batch writer, which needs no
    /// reply but "OK". A broken connection throws `connectionLost`.
    public func pipeline(_ buffer: RESPCommandBuffer) throws(RedisError) -> [(index: Int, message: String)] {
        try context.withLock { context throws(RedisError) in
            let status = buffer.bytes.withUnsafeBytes { bytes in
                redisAppendFormattedCommand(
                    context, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
            }
            guard status == REDIS_OK else { throw lost(context) }
            var errors: [(index: Int, message: String)] = []
            for index in 0..<buffer.commandCount {
                var raw: UnsafeMutableRawPointer?
                guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw lost(context) }
                let reply = raw.assumingMemoryBound(to: redisReply.self)
                if reply.pointee.type == REDIS_REPLY_ERROR, case .error(let message) = Self.convert(reply) {
                    errors.append((index, message))
                }
                freeReplyObject(raw)
            }
            return errors
        }
    }

    /// A command of the connection's setup (AUTH, SELECT): an error reply means the connection
    /// cannot be used.
    private func setUp(_ arguments: [String]) throws(RedisError) {
        let reply = try command(arguments.map { Array($0.utf8) })
        if case .error(let message) = reply {
            // AUTH's arguments are never echoed: the message is the server's.
            throw RedisError(.connectionFailed, message, server: url.description)
        }
    }

    private func lost(_ context: UnsafeMutablePointer<redisContext>) -> RedisError {
        RedisError(.connectionLost, Self.contextError(context), server: url.description)
    }

    private static func contextError(_ context: UnsafeMutablePointer<redisContext>) -> String {
        let message = withUnsafeBytes(of: context.pointee.errstr) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        if message.isEmpty || message == "Server closed the connection" {
            return message.isEmpty
                ? "connection error \(context.pointee.err)" : "the server closed the connection"
        }
        return message
    }

    static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        func text() -> String {
            guard let pointer = value.str else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: pointer, count: value.len), as: UTF8.self)
        }
        switch value.type {
        case REDIS_REPLY_STRING:
            guard let pointer = value.str else { return .bulk([]) }
            return .bulk(Array(UnsafeRawBufferPointer(start: pointer, count: value.len)))
        case REDIS_REPLY_STATUS: return .status(text())
        case REDIS_REPLY_ERROR: return .error(text())
        case REDIS_REPLY_INTEGER: return .integer(value.integer)
        case REDIS_REPLY_ARRAY:
            return .array((0..<value.elements).map { convert(value.element[$0]!) })
        default: return .null
        }
    }

    private static func withArgv<R>(
        _ arguments: [[UInt8]],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
    ) -> R {
        var pointers: [UnsafePointer<CChar>?] = []
        var lengths: [Int] = []
        pointers.reserveCapacity(arguments.count)
        lengths.reserveCapacity(arguments.count)
        let storage = arguments.map { bytes -> UnsafeMutableRawPointer in
            let copy = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
            bytes.withUnsafeBytes { source in
                if let base = source.baseAddress { copy.copyMemory(from: base, byteCount: bytes.count) }
            }
            return copy
        }
        defer { for pointer in storage { pointer.deallocate() } }
        for (index, bytes) in arguments.enumerated() {
            pointers.append(UnsafePointer(storage[index].assumingMemoryBound(to: CChar.self)))
            lengths.append(bytes.count)
        }
        return body(Int32(arguments.count), &pointers, lengths)
    }
}
