import PrescoreCore
import PrescoreRedis

/// The writing stage: puts a batch's scores into the run's bucket hashes with one pipelined round
/// trip per batch.
///
/// Rows are grouped by bucket so that each bucket gets one `HSET key field value field value …`
/// per batch (several fields a command is about twice as fast for Redis as one). The first write to
/// a bucket is followed by its `EXPIRE`, the TTL safety net. Within a batch rows keep their order,
/// so a key that appears twice keeps its last score. When the connection breaks, the session
/// reconnects and the whole pipeline is sent again: every command in it is idempotent.
struct ScoreWriter {
    let session: RedisSession
    let bucketCount: Int
    private let stem: [UInt8]
    private let ttlSeconds: String
    private var expirySet: [UInt64]
    /// Fields written per bucket, to warn when one outgrows Redis' listpack limit.
    private(set) var bucketFill: [UInt32]
    private var buffer = RESPCommandBuffer(reservingCapacity: 1 << 20)
    private var order: [(bucket: Int, row: Int)] = []

    init(session: RedisSession, layout: ScoreLayout, runID: Int64, bucketCount: Int, ttl: Duration) {
        self.session = session
        self.bucketCount = bucketCount
        stem = Array(layout.bucketKeyStem(run: runID).utf8)
        ttlSeconds = String(ttl.components.seconds)
        expirySet = [UInt64](repeating: 0, count: (bucketCount + 63) / 64)
        bucketFill = [UInt32](repeating: 0, count: bucketCount)
    }

    /// Writes the writable rows of `batch`; returns how many scores Redis acknowledged.
    mutating func write(_ batch: RowBatch) throws -> Int {
        order.removeAll(keepingCapacity: true)
        for row in 0..<batch.count where batch.isWritable(row) {
            order.append((ScoreLayout.bucket(ofKey: batch.key(row), bucketCount: bucketCount), row))
        }
        guard !order.isEmpty else { return 0 }
        // Sorting (bucket, row) pairs groups by bucket and keeps row order inside a bucket.
        order.sort { $0.bucket != $1.bucket ? $0.bucket < $1.bucket : $0.row < $1.row }
        buffer.removeAll()
        var start = 0
        while start < order.count {
            let bucket = order[start].bucket
            var end = start + 1
            while end < order.count && order[end].bucket == bucket { end += 1 }
            buffer.beginCommand(argumentCount: 2 + 2 * (end - start))
            buffer.appendArgument("HSET")
            buffer.appendArgument(stem, suffix: bucket)
            for index in start..<end {
                let row = order[index].row
                buffer.appendArgument(batch.key(row))
                ScoreLayout.withEncoded(batch.scores[row]) { buffer.appendArgument($0) }
            }
            bucketFill[bucket] &+= UInt32(end - start)
            if expirySet[bucket >> 6] & (1 << (bucket & 63)) == 0 {
                expirySet[bucket >> 6] |= 1 << (bucket & 63)
                buffer.beginCommand(argumentCount: 3)
                buffer.appendArgument("EXPIRE")
                buffer.appendArgument(stem, suffix: bucket)
                buffer.appendArgument(ttlSeconds)
            }
            start = end
        }
        let pending = buffer
        if let error = try session.perform({ try $0.pipeline(pending) }).first {
            throw RedisError(.commandFailed, error.message, server: session.url.description)
        }
        return order.count
    }
}
