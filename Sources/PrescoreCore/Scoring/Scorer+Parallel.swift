import Foundation

extension Scorer {
    /// Scores a large block on `threads` threads (all cores by default), in contiguous chunks.
    ///
    /// This is CPU work on Dispatch's worker threads; callers that are async must not call it from
    /// Swift's cooperative pool, where it would hold a thread for the whole block.
    @discardableResult
    public func scoreInParallel(
        _ features: UnsafeBufferPointer<Float>, into scores: UnsafeMutableBufferPointer<Float>,
        threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) -> Int {
        let rows = scores.count
        precondition(features.count == rows * featureCount, "feature block does not match row count")
        let chunkCount = max(1, min(threads * 4, rows / 4_096))
        guard chunkCount > 1, threads > 1, computesLocally else { return score(features, into: scores) }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: chunkCount) { missing in
            let shared = ChunkedBlock(
                features: features, scores: scores, missing: missing, columns: featureCount,
                chunks: chunkCount)
            DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
                shared.missing[chunk] = score(shared.features(chunk), into: shared.scores(chunk))
            }
            return missing.reduce(0, +)
        }
    }
}

/// A block split into disjoint chunks for `concurrentPerform`.
private struct ChunkedBlock: @unchecked Sendable {
    // Safe to share: worker `chunk` reads only its own rows of `allFeatures`, writes only its own rows
    // of `allScores` and its own slot of `missing`; the buffers outlive `concurrentPerform`, which
    // returns only after every worker has finished.
    let allFeatures: UnsafeBufferPointer<Float>
    let allScores: UnsafeMutableBufferPointer<Float>
    let missing: UnsafeMutableBufferPointer<Int>
    let columns: Int
    let chunks: Int

    init(
        features: UnsafeBufferPointer<Float>, scores: UnsafeMutableBufferPointer<Float>,
        missing: UnsafeMutableBufferPointer<Int>, columns: Int, chunks: Int
    ) {
        self.allFeatures = features
        self.allScores = scores
        self.missing = missing
        self.columns = columns
        self.chunks = chunks
    }

    private func rows(_ chunk: Int) -> Range<Int> {
        (allScores.count * chunk / chunks)..<(allScores.count * (chunk + 1) / chunks)
    }

    func features(_ chunk: Int) -> UnsafeBufferPointer<Float> {
        let range = rows(chunk)
        return UnsafeBufferPointer(
            rebasing: allFeatures[(range.lowerBound * columns)..<(range.upperBound * columns)])
    }

    func scores(_ chunk: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(rebasing: allScores[rows(chunk)])
    }
}
