import PrescoreCore
import PrescoreRedis

/// The writing stage: puts the scores into the run's bucket hashes, one pipelined round trip per
/// flush. Scores are held (`PendingScores`) until the buckets average 8 of them, so that each `HSET`
/// carries several fields (Redis spends about 4 µs on a call beside its fields), but at most 262,144:
/// a flush of 1,048,576 took a 10,000,000-entity run from 87 to 198 MB peak (the scores, their
/// grouping and the RESP buffer, each grown by doubling). `flush()` sends the rest once every batch
/// has arrived.
///
/// A flush groups the scores by bucket so that each bucket gets one `HSET key field value field
/// value …`, with a counting pass: linear and stable, where a comparison sort of (bucket, row) pairs
/// cost 3% of the run. Scores keep their arrival order within a bucket and flushes go out in order,
/// so a key that appears twice keeps its last score. The first write to a bucket is followed by its
/// `EXPIRE`, the TTL safety net. When the connection breaks, the session reconnects and the whole
/// pipeline is sent again: every command in it is idempotent.
struct ScoreWriter {
    let session: RedisSession
    let bucketCount: Int
    private let stem: [UInt8]
    private let ttlSeconds: String
    private var expirySet: [UInt64]
    /// Fields written per bucket, to warn when one outgrows Redis' listpack limit.
    private(set) var bucketFill: [UInt32]
    private var buffer = RESPCommandBuffer(reservingCapacity: 1 << 20)
    private var pending = PendingScores()
    /// How many pending scores make a flush.
    private let flushCount: Int
    /// Per pending score, its bucket, then the scores grouped by bucket, and per bucket where its
    /// group ends in `order` (reset to zeros after each flush).
    private var entryBuckets: [Int32] = []
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
        flushCount = min(bucketCount * 8, 1 << 18)
    }

    /// Takes the writable rows of `batch`, writing when enough are pending; returns how many scores
    /// Redis acknowledged (0 while they are only held).
    mutating func write(_ batch: RowBatch) throws -> Int {
        pending.take(batch)
        return pending.count >= flushCount ? try flush() : 0
    }

    /// Writes every pending score; returns how many Redis acknowledged.
    mutating func flush() throws -> Int {
        let written = pending.count
        guard written > 0 else { return 0 }
        group()
        buffer.removeAll()
        pending.keys.withKeys { key in
            var start = 0
            for bucket in 0..<bucketCount where groupEnds[bucket] > start {
                let end = Int(groupEnds[bucket])
                appendCommands(bucket: bucket, entries: order[start..<end], key: key)
                start = end
            }
        }
        for bucket in 0..<bucketCount { groupEnds[bucket] = 0 }
        pending.removeAll()
        let commands = buffer
        if let error = try session.perform({ try $0.pipeline(commands) }).first {
            throw RedisError(.commandFailed, error.message, server: session.url.description)
        }
        return written
    }

    /// Fills `order` with the pending scores grouped by bucket, in arrival order within a bucket (so
    /// a key that appears twice keeps its last score), and `groupEnds`.
    private mutating func group() {
        entryBuckets.removeAll(keepingCapacity: true)
        pending.keys.withKeys { key in
            for entry in 0..<pending.count {
                let bucket = ScoreLayout.bucket(ofKey: key(entry), bucketCount: bucketCount)
                entryBuckets.append(Int32(bucket))
                groupEnds[bucket] &+= 1
            }
        }
        // Counts become each group's start, then, as entries are placed, its end.
        var total: Int32 = 0
        for bucket in 0..<bucketCount {
            let count = groupEnds[bucket]
            groupEnds[bucket] = total
            total &+= count
        }
        order = [Int32](repeating: 0, count: entryBuckets.count)
        for (entry, bucket) in entryBuckets.enumerated() {
            order[Int(groupEnds[Int(bucket)])] = Int32(entry)
            groupEnds[Int(bucket)] &+= 1
        }
    }

    /// One bucket's `HSET` (and its `EXPIRE`, the first time).
    private mutating func appendCommands(
        bucket: Int, entries: ArraySlice<Int32>, key: (Int) -> UnsafeRawBufferPointer
    ) {
        buffer.beginCommand(argumentCount: 2 + 2 * entries.count)
        buffer.appendArgument("HSET")
        buffer.appendArgument(stem, suffix: bucket)
        for entry in entries {
            buffer.appendArgument(key(Int(entry)))
            ScoreLayout.withEncoded(pending.scores[Int(entry)]) { buffer.appendArgument($0) }
        }
        bucketFill[bucket] &+= UInt32(entries.count)
        if expirySet[bucket >> 6] & (1 << (bucket & 63)) == 0 {
            expirySet[bucket >> 6] |= 1 << (bucket & 63)
            buffer.beginCommand(argumentCount: 3)
            buffer.appendArgument("EXPIRE")
            buffer.appendArgument(stem, suffix: bucket)
            buffer.appendArgument(ttlSeconds)
        }
    }
}
