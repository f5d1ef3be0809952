import PrescoreCore
import PrescoreRedis

/// The writing stage: puts the scores into the run's bucket hashes, in one of two ways (`Mode`).
///
/// **Whole buckets by `RESTORE`** (a run of up to `holdLimit` scores): every score is held until the
/// last batch; then each bucket is built in Redis' own listpack encoding and sent as a `RESTORE`
/// payload (`ListpackHashDump`, `ScoreWriter+Restore.swift`). Redis stores it as it is, where an
/// `HSET` parses every field and scans the bucket for it: in whole runs of a million scores,
/// redis-server spent 0.13–0.21 CPU-seconds instead of 1.2–1.6, on a machine whose two cores also
/// run PostgreSQL's COPY and the scoring. Redis that refuses `RESTORE` (an ACL without it, Redis 6's
/// older payload version) gets the same scores by `HSET`; the refusal is reported.
///
/// **`HSET` as the scores come** (`streaming`): a run whose buckets were sized for more than
/// `holdLimit` rows writes every `flushCount` scores from the start; one that outgrows the limit
/// while holding sends what it holds, then does the same. Scores wait until the buckets average 8,
/// so that each `HSET` carries several fields (Redis spends about 4 µs on a call beside its
/// fields), but at most 262,144: a flush of 1,048,576 took a 10,000,000-entity run from 87 to
/// 198 MB peak.
///
/// Either way the scores are grouped by bucket with a counting pass (linear and stable, where a
/// comparison sort of (bucket, row) pairs cost 3% of the run) and a key that appears twice keeps
/// its last score. Every bucket gets the run's TTL (`EXPIRE` after its first `HSET`, or `RESTORE`'s
/// own). When the connection breaks, the session reconnects and the whole pipeline is sent again:
/// every command in it is idempotent (`RESTORE … REPLACE` included).
struct ScoreWriter {
    /// How the scores reach Redis.
    enum Mode: Equatable {
        /// Held until the last batch, then each bucket sent whole by `RESTORE`.
        case holding
        /// Sent by `HSET` every `flushCount` scores.
        case streaming
    }

    let session: RedisSession
    let bucketCount: Int
    let stem: [UInt8]
    /// The run's TTL in whole seconds (`EXPIRE`) and in milliseconds (`RESTORE`), as text.
    private let ttlSeconds: String
    let ttlMilliseconds: String
    private(set) var mode: Mode
    /// Why Redis refused `RESTORE`, when it did (the run's scores then went by `HSET`).
    private(set) var restoreRefusal: String?
    /// Fields written per bucket, to warn when one outgrows Redis' listpack limit.
    var bucketFill: [UInt32]
    var buffer = RESPCommandBuffer(reservingCapacity: 1 << 20)
    private(set) var pending: PendingScores
    var groups: BucketGroups
    private let holdLimit: Int
    /// How many pending scores make an `HSET` flush.
    private let flushCount: Int
    /// Room for one more batch beyond a limit (the default batch size).
    private static let batchAllowance = 1 << 16
    private var expirySet: [UInt64]

    init(
        session: RedisSession, layout: ScoreLayout, runID: Int64, bucketCount: Int, ttl: Duration,
        holdLimit: Int
    ) {
        self.session = session
        self.bucketCount = bucketCount
        ttlSeconds = String(ttl.components.seconds)
        ttlMilliseconds = String(ttl.components.seconds * 1000)
        self.holdLimit = holdLimit
        stem = Array(layout.bucketKeyStem(run: runID).utf8)
        expirySet = [UInt64](repeating: 0, count: (bucketCount + 63) / 64)
        bucketFill = [UInt32](repeating: 0, count: bucketCount)
        flushCount = min(bucketCount * 8, 1 << 18)
        // A run sized for more rows than it may hold streams from its first batch: holding first
        // would only add the held scores' memory before the switch (about 59 MB at the default
        // limit: a 10,000,000-entity run peaked at 200 MB instead of 146).
        mode = bucketCount * ScoreLayout.entitiesPerBucket > holdLimit ? .streaming : .holding
        let room = mode == .holding ? holdLimit : flushCount
        pending = PendingScores(bucketCount: bucketCount, reservingCapacity: room + Self.batchAllowance)
        groups = BucketGroups(bucketCount: bucketCount)
    }

    /// Takes the writable rows of `batch`, writing when enough are pending; returns how many scores
    /// Redis acknowledged (0 while they are only held).
    mutating func write(_ batch: RowBatch) throws -> Int {
        pending.take(batch)
        switch mode {
        case .holding:
            guard pending.count > holdLimit else { return 0 }
            mode = .streaming
            let written = try sendPendingByHSET()
            // The room reserved for holding goes back; streaming needs a flush's worth.
            pending = PendingScores(
                bucketCount: bucketCount, reservingCapacity: flushCount + Self.batchAllowance)
            return written
        case .streaming:
            return pending.count >= flushCount ? try sendPendingByHSET() : 0
        }
    }

    /// Writes every pending score, once every batch has arrived; returns how many Redis
    /// acknowledged.
    mutating func flush() throws -> Int {
        guard pending.count > 0 else { return 0 }
        if mode == .holding {
            guard let refusal = try restorePending() else {
                defer { pending.removeAll() }
                return pending.count
            }
            restoreRefusal = refusal
            mode = .streaming
            bucketFill = [UInt32](repeating: 0, count: bucketCount)
        }
        return try sendPendingByHSET()
    }

    /// Sends every pending score by `HSET`, `flushCount` at a time, in arrival order.
    private mutating func sendPendingByHSET() throws -> Int {
        let written = pending.count
        for start in stride(from: 0, to: written, by: flushCount) {
            groups.group(pending, start..<min(written, start + flushCount))
            buffer.removeAll()
            groups.forEachBucket { bucket, records, fingerprints in
                appendHSET(bucket: bucket, records: records, count: fingerprints.count)
            }
            if let error = try send().first {
                throw RedisError(.commandFailed, error.message, server: session.url.description)
            }
        }
        pending.removeAll()
        return written
    }

    /// Sends the buffer's commands; returns the error replies.
    func send() throws -> [(index: Int, message: String)] {
        let commands = buffer
        return try session.perform { try $0.pipeline(commands) }
    }

    /// One bucket's `HSET` of `count` scores (and its `EXPIRE`, the first time).
    private mutating func appendHSET(bucket: Int, records: UnsafeRawBufferPointer, count: Int) {
        buffer.beginCommand(argumentCount: 2 + 2 * count)
        buffer.appendArgument("HSET")
        buffer.appendArgument(stem, suffix: bucket)
        var offset = 0
        while offset < records.count {
            let (element, next) = Listpack.element(in: records, at: offset)
            buffer.appendArgument(element, in: records)
            offset = next
        }
        bucketFill[bucket] &+= UInt32(count)
        if expirySet[bucket >> 6] & (1 << (bucket & 63)) == 0 {
            expirySet[bucket >> 6] |= 1 << (bucket & 63)
            buffer.beginCommand(argumentCount: 3)
            buffer.appendArgument("EXPIRE")
            buffer.appendArgument(stem, suffix: bucket)
            buffer.appendArgument(ttlSeconds)
        }
    }
}
