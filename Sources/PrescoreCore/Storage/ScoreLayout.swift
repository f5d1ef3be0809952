/// Where a job's scores live in Redis and how they are encoded: the one definition that the batch
/// writer and every reader (`prescore get`, `serve`, a product service reading Redis directly) share.
/// docs/storage.md describes the same layout for readers in other languages; change both together.
///
/// Why buckets: at 100 million entities Redis' per-key overhead (88–120 bytes for one string key per
/// entity) dwarfs a 4-byte score. Scores are packed into small hashes of about
/// `entitiesPerBucket` entities, which Redis keeps in its compact listpack encoding under its
/// default limits (512 fields, 64-byte values): about 13 bytes per score for integer keys.
///
/// Keys, all under `PREFIX:JOB:` (the job's `output.prefix`, default `prescore`):
/// - `PREFIX:JOB:current`: hash, the published run (`PublishedRun`): where readers start.
/// - `PREFIX:JOB:runs`: sorted set of the published runs kept for rollback, scored by run id.
/// - `PREFIX:JOB:rejected`: sorted set of the runs a rollback went back from, removed by the next
///   publish.
/// - `PREFIX:JOB:run:RUN`: hash, the facts of one run (same fields as `current`), written before
///   its first score so that its keys can always be found and removed.
/// - `PREFIX:JOB:fence:RUN`: string, the fencing token of the newest attempt of scheduled run RUN
///   (which writes under that token as its run id); an attempt with another token cannot publish.
/// - `PREFIX:JOB:s:RUN:BUCKET`: hash, field = entity key as text, value = score as float32.
public struct ScoreLayout: Sendable, Equatable {
    public let prefix: String
    public let job: String

    /// The mean number of entities a bucket is sized for. Far enough below Redis' default
    /// `hash-max-listpack-entries` (512) that a row count 7× the estimate still stays listpack.
    /// Why 64 and not 128: Redis looks a field up by scanning the listpack, so every `HSET` of a new
    /// field costs time linear in the bucket's size; at 64 redis-server spent 0.57 s of CPU per
    /// million scores written against 0.92 s at 128 (measured here), for 13.3 bytes a score instead
    /// of 12.7. Reads (`HGET`) scan half as far too.
    public static let entitiesPerBucket = 64

    /// The pub/sub channel on which every publish and rollback announces the pointer key it
    /// changed, so that readers caching pointers (`prescore serve`) switch at once.
    public static let publishChannel = "prescore:published"

    public init(prefix: String, job: String) {
        self.prefix = prefix
        self.job = job
    }

    public var pointerKey: String { "\(prefix):\(job):current" }
    public var keptRunsKey: String { "\(prefix):\(job):runs" }
    public var rejectedRunsKey: String { "\(prefix):\(job):rejected" }
    public func runKey(_ run: Int64) -> String { "\(prefix):\(job):run:\(run)" }
    public func fenceKey(_ run: Int64) -> String { "\(prefix):\(job):fence:\(run)" }
    /// A SCAN pattern that finds every run's facts key of this job.
    public var runKeyPattern: String { "\(prefix):\(job):run:*" }
    public func bucketKey(run: Int64, bucket: Int) -> String { "\(bucketKeyStem(run: run))\(bucket)" }
    /// The bucket of `run` that holds `key`'s score (readers, the realtime write-back).
    public func bucketKey(ofKey key: String, in run: PublishedRun) -> String {
        bucketKey(run: run.runID, bucket: Self.bucket(ofKey: key.utf8, bucketCount: run.buckets))
    }
    /// `PREFIX:JOB:s:RUN:`, to which the writer appends bucket numbers.
    public func bucketKeyStem(run: Int64) -> String { "\(prefix):\(job):s:\(run):" }

    /// The rows a run sizes its buckets for. The planner's estimate can be off by orders of
    /// magnitude (a filter on a subquery is guessed at a third of the table), and an inflated one
    /// spreads the scores one a key, losing the layout's memory savings. When a run was published,
    /// its row count is known and the better guide: the estimate counts only up to `maxGrowth`
    /// times it, so an inflated estimate leaves buckets at least 1/8 full (8 scores), while a
    /// source that really grew is not crowded. Worst cases: a first run sizes by the estimate alone
    /// (too high: sparse buckets until the next run; too low: crowded ones, warned about); a source
    /// that grew more than 64× since the last run (8× here, 8× from 64 to the listpack limit of
    /// 512) makes buckets past the listpack limit, which cost more memory, print a warning, and
    /// size the next run right.
    public static func expectedRows(estimate: Int, lastRows: Int?) -> Int {
        guard let lastRows, lastRows > 0 else { return max(estimate, 0) }
        return min(max(estimate, lastRows), maxGrowth * lastRows)
    }

    /// How much larger than the last published run a run is sized at most.
    public static let maxGrowth = 8

    /// How many buckets a run of `expectedRows` entities gets (at least 1). Fixed when the run
    /// starts and stored with it, since every reader needs it to find a key's bucket.
    public static func bucketCount(expectedRows: Int) -> Int {
        max(1, (max(expectedRows, 0) + entitiesPerBucket - 1) / entitiesPerBucket)
    }

    /// The bucket of an entity key: 64-bit FNV-1a of the key's text (UTF-8; an integer key as its
    /// decimal digits, `-` first when negative) modulo `bucketCount`, read as an unsigned number.
    /// Chosen for being a few lines in any language; a hash (not `key / 128`) keeps buckets even
    /// for sparse or text keys.
    @inlinable
    public static func bucket(ofKey key: some Sequence<UInt8>, bucketCount: Int) -> Int {
        Int(keyHash(key) % UInt64(bucketCount))
    }

    /// The 64-bit FNV-1a hash of a key's text, from which `bucket(ofKey:bucketCount:)` is taken.
    @inlinable
    public static func keyHash(_ key: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// A score as stored: the IEEE-754 float32 bits, little-endian (4 bytes).
    public static func encode(_ score: Float) -> [UInt8] {
        withEncoded(score) { Array($0) }
    }

    /// Calls `body` with the stored bytes of `score`, allocating nothing (the writer's hot loop).
    @inlinable
    public static func withEncoded<R>(_ score: Float, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeBytes(of: score.bitPattern.littleEndian, body)
    }

    /// The score stored as `bytes`, or nil when they are not 4 bytes.
    public static func decode(_ bytes: [UInt8]) -> Float? {
        guard bytes.count == 4 else { return nil }
        let bits = bytes.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return Float(bitPattern: bits)
    }
}
