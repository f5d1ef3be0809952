import PrescoreCore
import PrescoreRedis

extension ScoreWriter {
    /// Pipelines are sent once they hold this many bytes of `RESTORE`s, bounding the buffer.
    static let restoreChunkBytes = 4 << 20

    /// Sends every pending score, bucket by bucket, as `RESTORE key ttl payload REPLACE`. Returns
    /// nil when Redis took them all, or the first error Redis replied with: the caller then sends
    /// the same scores by `HSET`, which overwrites whatever was restored with the same values.
    mutating func restorePending() throws -> String? {
        groups.group(pending, 0..<pending.count)
        var distinct = DistinctRecords()
        buffer.removeAll()
        var refusal: String?
        try groups.forEachBucket { bucket, records, fingerprints in
            guard refusal == nil else { return }
            buffer.beginCommand(argumentCount: 5)
            buffer.appendArgument("RESTORE")
            buffer.appendArgument(stem, suffix: bucket)
            buffer.appendArgument(ttlMilliseconds)
            distinct.withLastOfEach(records, fingerprints) { elements, count in
                buffer.appendRestorePayload(hashElements: elements, elementCount: 2 * count)
                bucketFill[bucket] &+= UInt32(count)
            }
            buffer.appendArgument("REPLACE")
            if buffer.bytes.count >= Self.restoreChunkBytes { refusal = try sendRestores() }
        }
        return try refusal ?? sendRestores()
    }

    /// Sends the buffered `RESTORE`s; returns the first error reply, if any.
    private mutating func sendRestores() throws -> String? {
        guard buffer.commandCount > 0 else { return nil }
        defer { buffer.removeAll() }
        return try send().first?.message
    }
}
