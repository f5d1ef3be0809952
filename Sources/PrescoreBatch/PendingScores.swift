/// Scores the writer has taken but not yet sent: keys and scores of writable rows, in arrival order,
/// across batches.
///
/// Why hold them: a batch of 65,536 rows spread over a million-row run's 15,625 buckets gives each
/// bucket about 4 fields, and Redis spends about 4 µs on every `HSET` beside its fields (measured:
/// 240,000 calls took 1.34 s of redis-server CPU for 1,000,000 scores; 125,000 calls of 8 fields,
/// 1.0 s). Holding more (32 a bucket) saved no more Redis time here and left half the run's writes
/// for after the last batch, where nothing overlaps them.
struct PendingScores {
    private(set) var keys = PackedKeys()
    private(set) var scores: [Float] = []

    var count: Int { scores.count }

    /// Takes the rows of `batch` that will be written (a key and a finite score).
    mutating func take(_ batch: RowBatch) {
        batch.withKeys { key in
            for row in 0..<batch.count where batch.isWritable(row) {
                keys.append(key(row))
                scores.append(batch.scores[row])
            }
        }
    }

    mutating func removeAll() {
        keys.removeAll()
        scores.removeAll(keepingCapacity: true)
    }
}
