import PrescoreCore
import PrescoreRedis

/// The writing stage: puts a batch's scores into the run's bucket hashes with one pipelined round
/// trip per batch.
///
/// Rows are grouped by bucket so that each bucket gets one `HSET key field value field value …`
/// per batch (several fields a command is about twice as fast for Redis as one), with a counting
/// pass: linear in the rows and stable, where a comparison sort of (bucket, row) pairs cost 3% of the
/// run. The first write to
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
    /// Per row of the batch, its bucket (-1 when it is not written), then the writable rows grouped
    /// by bucket, and per bucket where its group ends in `order` (reset to zeros after each batch).
    private var rowBuckets: [Int32] = []
    private var order: [Int32] = []
    private var groupEnds: [Int32]

    init(session: RedisSession, layout: ScoreLayout, runID: Int64, bucketCount: Int, ttl: Duration) {
        self.session = session
        self.bucketCount = bucketCount
        stem = Array(layout.bucketKeyStem(run: runID).utf8)
        ttlSeconds = String(ttl.components.seconds)
        expirySet = [UInt64](repeating: 0, count: (bucketCount + 63) / 64)
        bucketFill = [UInt32](repeating: 0, count: bucketCount)
        groupEnds = [Int32](repeating: 0, count: bucketCount)
    }

    /// Writes the writable rows of `batch`; returns how many scores Redis acknowledged.
    mutating func write(_ batch: RowBatch) throws -> Int {
        let written = group(batch)
        guard written > 0 else { return 0 }
        buffer.removeAll()
        batch.withKeys { key in
            var start = 0
            for bucket in 0..<bucketCount where groupEnds[bucket] > start {
                let end = Int(groupEnds[bucket])
                appendCommands(bucket: bucket, rows: order[start..<end], batch: batch, key: key)
                start = end
            }
        }
        for bucket in 0..<bucketCount { groupEnds[bucket] = 0 }
        let pending = buffer
        if let error = try session.perform({ try $0.pipeline(pending) }).first {
            throw RedisError(.commandFailed, error.message, server: session.url.description)
        }
        return written
    }

    /// Fills `order` with the writable rows grouped by bucket, in row order within a bucket (so a
    /// key that appears twice keeps its last score), and `groupEnds`; returns how many there are.
    private mutating func group(_ batch: RowBatch) -> Int {
        rowBuckets.removeAll(keepingCapacity: true)
        var written = 0
        batch.withKeys { key in
            for row in 0..<batch.count {
                guard batch.isWritable(row) else {
                    rowBuckets.append(-1)
                    continue
                }
                let bucket = ScoreLayout.bucket(ofKey: key(row), bucketCount: bucketCount)
                rowBuckets.append(Int32(bucket))
                groupEnds[bucket] &+= 1
                written += 1
            }
        }
        // Counts become each group's start, then, as rows are placed, its end.
        var total: Int32 = 0
        for bucket in 0..<bucketCount {
            let count = groupEnds[bucket]
            groupEnds[bucket] = total
            total &+= count
        }
        order = [Int32](repeating: 0, count: written)
        for (row, bucket) in rowBuckets.enumerated() where bucket >= 0 {
            order[Int(groupEnds[Int(bucket)])] = Int32(row)
            groupEnds[Int(bucket)] &+= 1
        }
        return written
    }

    /// One bucket's `HSET` (and its `EXPIRE`, the first time).
    private mutating func appendCommands(
        bucket: Int, rows: ArraySlice<Int32>, batch: RowBatch, key: (Int) -> UnsafeRawBufferPointer
    ) {
        buffer.beginCommand(argumentCount: 2 + 2 * rows.count)
        buffer.appendArgument("HSET")
        buffer.appendArgument(stem, suffix: bucket)
        for row in rows {
            buffer.appendArgument(key(Int(row)))
            ScoreLayout.withEncoded(batch.scores[Int(row)]) { buffer.appendArgument($0) }
        }
        bucketFill[bucket] &+= UInt32(rows.count)
        if expirySet[bucket >> 6] & (1 << (bucket & 63)) == 0 {
            expirySet[bucket >> 6] |= 1 << (bucket & 63)
            buffer.beginCommand(argumentCount: 3)
            buffer.appendArgument("EXPIRE")
            buffer.appendArgument(stem, suffix: bucket)
            buffer.appendArgument(ttlSeconds)
        }
    }
}
