/// A range of the pending scores regrouped by bucket with a counting pass: each bucket's records
/// copied back to back, in arrival order, so that a bucket is read in one sweep. Linear and
/// stable, where a comparison sort of (bucket, row) pairs cost 3% of the run; copying the records
/// (not indices to them) keeps the per-bucket work off scattered memory (a million scores read by
/// index took 0.5 s, mostly cache misses, at the end of the run where nothing overlaps it).
/// Storage is kept from one use to the next.
struct BucketGroups {
    private(set) var records: [UInt8] = []
    private(set) var fingerprints: [UInt32] = []
    /// Per bucket, where its records end: in bytes, and in scores.
    private var byteEnds: [Int]
    private var scoreEnds: [Int]

    init(bucketCount: Int) {
        byteEnds = [Int](repeating: 0, count: bucketCount)
        scoreEnds = [Int](repeating: 0, count: bucketCount)
    }

    /// Regroups `range` of `pending`.
    mutating func group(_ pending: PendingScores, _ range: Range<Int>) {
        for bucket in byteEnds.indices {
            byteEnds[bucket] = 0
            scoreEnds[bucket] = 0
        }
        for index in range {
            let bucket = Int(pending.buckets[index])
            byteEnds[bucket] += pending.ends[index] - pending.recordStart(index)
            scoreEnds[bucket] += 1
        }
        // Sizes become starts, then, as records are placed, ends.
        var bytes = 0
        var scores = 0
        for bucket in byteEnds.indices {
            (bytes, byteEnds[bucket]) = (bytes + byteEnds[bucket], bytes)
            (scores, scoreEnds[bucket]) = (scores + scoreEnds[bucket], scores)
        }
        if records.count < bytes { records = [UInt8](repeating: 0, count: bytes) }
        if fingerprints.count < scores { fingerprints = [UInt32](repeating: 0, count: scores) }
        // Worked on as locals, moved back: the loop touches no property of `self`.
        var (byteEnds, scoreEnds, records, fingerprints) = (
            self.byteEnds, self.scoreEnds, self.records, self.fingerprints
        )
        (self.byteEnds, self.scoreEnds, self.records, self.fingerprints) = ([], [], [], [])
        defer {
            (self.byteEnds, self.scoreEnds, self.records, self.fingerprints) = (
                byteEnds, scoreEnds, records, fingerprints
            )
        }
        pending.records.withUnsafeBytes { source in
            records.withUnsafeMutableBytes { target in
                for index in range {
                    let bucket = Int(pending.buckets[index])
                    let start = pending.recordStart(index)
                    let length = pending.ends[index] - start
                    target.baseAddress!.advanced(by: byteEnds[bucket])
                        .copyMemory(from: source.baseAddress!.advanced(by: start), byteCount: length)
                    byteEnds[bucket] += length
                    fingerprints[scoreEnds[bucket]] = pending.fingerprints[index]
                    scoreEnds[bucket] += 1
                }
            }
        }
    }

    /// Calls `body` for every bucket with scores: its number, its records' bytes and its scores'
    /// fingerprints.
    func forEachBucket(
        _ body: (Int, UnsafeRawBufferPointer, ArraySlice<UInt32>) throws -> Void
    ) rethrows {
        try records.withUnsafeBytes { records in
            var byteStart = 0
            var scoreStart = 0
            for bucket in byteEnds.indices where scoreEnds[bucket] > scoreStart {
                try body(
                    bucket, UnsafeRawBufferPointer(rebasing: records[byteStart..<byteEnds[bucket]]),
                    fingerprints[scoreStart..<scoreEnds[bucket]])
                byteStart = byteEnds[bucket]
                scoreStart = scoreEnds[bucket]
            }
        }
    }
}
