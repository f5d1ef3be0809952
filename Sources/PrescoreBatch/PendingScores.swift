import PrescoreCore
import PrescoreRedis

/// Scores the writer has taken but not yet sent, in arrival order, each as the two listpack
/// elements Redis stores for it (the key as field, the score as value) with its bucket. Encoded as
/// they arrive, on the writer's thread while the reader and the scorer work, so that at the end a
/// bucket's hash is its records copied back to back (`BucketGroups`).
///
/// Why hold them at all: see `ScoreWriter`. About 12 bytes of record and 16 of index a score.
struct PendingScores {
    let bucketCount: Int
    /// Every score's record: the key's element, then the score's.
    private(set) var records: [UInt8] = []
    /// Per score, where its record ends in `records` (it starts where the previous one ends).
    private(set) var ends: [Int] = []
    private(set) var buckets: [Int32] = []
    /// Per score, the high half of its key's hash: two records with different fingerprints hold
    /// different keys (equal ones are compared byte by byte).
    private(set) var fingerprints: [UInt32] = []

    /// Room for `capacity` scores is reserved at once (address space; memory only as it fills):
    /// grown by doubling instead, arrays just past a hold limit of 2,097,152 would reserve and
    /// touch room for twice that.
    init(bucketCount: Int, reservingCapacity capacity: Int) {
        self.bucketCount = bucketCount
        records.reserveCapacity(capacity * 12)
        ends.reserveCapacity(capacity)
        buckets.reserveCapacity(capacity)
        fingerprints.reserveCapacity(capacity)
    }

    var count: Int { ends.count }

    func recordStart(_ index: Int) -> Int { index == 0 ? 0 : ends[index - 1] }

    /// Takes the rows of `batch` that will be written (a key and a finite score).
    mutating func take(_ batch: RowBatch) {
        batch.withKeys { key in
            for row in 0..<batch.count where batch.isWritable(row) {
                let bytes = key(row)
                let hash = ScoreLayout.keyHash(bytes)
                Listpack.appendElement(bytes, to: &records)
                ScoreLayout.withEncoded(batch.scores[row]) { Listpack.appendElement($0, to: &records) }
                ends.append(records.count)
                buckets.append(Int32(hash % UInt64(bucketCount)))
                fingerprints.append(UInt32(truncatingIfNeeded: hash >> 32))
            }
        }
    }

    mutating func removeAll() {
        records.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        buckets.removeAll(keepingCapacity: true)
        fingerprints.removeAll(keepingCapacity: true)
    }
}
