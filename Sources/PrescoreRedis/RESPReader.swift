import CHiredis

/// hiredis's reply parser on its own, without a socket: bytes go in as they arrive, whole replies
/// come out. It lets a connection that something else owns (a SwiftNIO channel on an event loop)
/// speak RESP with the same parser the blocking connections use. Parsing never blocks.
///
/// The `redisReader` pointer never leaves this type. Not `Sendable`: one reader belongs to one
/// connection, used on that connection's event loop only.
public final class RESPReader {
    private let reader: UnsafeMutablePointer<redisReader>

    public init() {
        guard let reader = redisReaderCreate() else { fatalError("hiredis could not allocate a reader") }
        self.reader = reader
    }

    deinit { redisReaderFree(reader) }

    /// Adds bytes read from the connection.
    public func feed(_ bytes: UnsafeRawBufferPointer) throws(RedisError) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        guard redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count) == REDIS_OK
        else {
            throw RedisError(.connectionLost, "the RESP reader refused its input", server: "")
        }
    }

    /// The next whole reply, or nil until more bytes arrive. Throws on bytes that are not RESP.
    public func next() throws(RedisError) -> RedisReply? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else {
            let message = withUnsafeBytes(of: reader.pointee.errstr) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            throw RedisError(.connectionLost, "not a RESP reply: \(message)", server: "")
        }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return RedisConnection.convert(raw.assumingMemoryBound(to: redisReply.self))
    }
}
