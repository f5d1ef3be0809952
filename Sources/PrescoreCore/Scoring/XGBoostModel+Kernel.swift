import Foundation

#if PRESCORE_SCORING_AVX2
    import PrescoreCore
#endif

// This file is compiled twice: into PrescoreCore, and through a symbolic link into
// PrescoreScoringAVX2 with AVX2 enabled (see `AVX2Scorer`). So it declares nothing that is not
// internal (each module gets its own copy), and uses the model's data through `package` members.
extension XGBoostModel {
    /// `score`, with this module's build of the kernel (see the type's documentation).
    @inline(__always)
    func scoreWithKernel(
        _ features: UnsafeBufferPointer<Float>, into scores: UnsafeMutableBufferPointer<Float>
    ) -> Int {
        precondition(features.count == scores.count * featureCount, "feature block size mismatch")
        var missing = 0
        for value in features where value.isNaN { missing += 1 }
        // Binning a block only pays when some tree reads the bins.
        if scores.count < Self.quantizedMinimumRows {
            scoreFewRows(features, into: scores)
        } else if forest.quantizedTreeCount == 0 {
            scorePlain(features, into: scores)
        } else {
            scoreQuantized(features, into: scores)
        }
        return missing
    }

    /// Scores with the quantized kernel wherever it applies (any number of rows; `score` sends
    /// small ones to the float walk).
    func scoreQuantized(
        _ features: UnsafeBufferPointer<Float>, into scores: UnsafeMutableBufferPointer<Float>
    ) {
        guard let base = features.baseAddress, let out = scores.baseAddress else { return }
        let groupBytes = featureCount * 2 * QuantizedForest.vectorBytes
        let width = forest.bins.width
        withUnsafeTemporaryAllocation(
            byteCount: groupBytes * (Self.blockSize / width.lanes), alignment: 64
        ) { columns in
            columns.initializeMemory(as: UInt8.self, repeating: 0)
            withKernelBuffers { buffers in
                var start = 0
                while start < scores.count {
                    let count = min(Self.blockSize, scores.count - start)
                    let block = Block(
                        features: base + start * featureCount, rows: count, out: out + start,
                        columns: columns.baseAddress!, groupBytes: groupBytes)
                    switch width {
                    case .byte: scoreBlock(block, splats: buffers.byteSplats, buffers: buffers)
                    case .word: scoreBlock(block, splats: buffers.wordSplats, buffers: buffers)
                    }
                    start += count
                }
            }
        }
    }

    /// Up to `blockSize` rows and where their bins and scores go.
    private struct Block {
        var features: UnsafePointer<Float>
        var rows: Int
        var out: UnsafeMutablePointer<Float>
        var columns: UnsafeMutableRawPointer
        var groupBytes: Int
    }

    /// Scores a block: bins it once, then adds every tree's leaf in model order (the order XGBoost adds
    /// them in, so sums are bit-identical), each tree by its own path.
    @inline(__always)
    private func scoreBlock<Lanes: BinLanes>(
        _ block: Block, splats: UnsafePointer<Lanes>, buffers: KernelBuffers
    ) {
        let scratch = buffers.scratch.bindMemory(to: Lanes.self, capacity: QuantizedForest.scratchMasks)
        forest.bins.fill(
            Lanes.Scalar.self, columns: block.columns, features: block.features, rows: block.rows,
            featureCount: featureCount)
        for row in 0..<block.rows { block.out[row] = baseMargin }
        for step in forest.steps {
            switch step {
            case .quantized(let tree):
                forest.walk(
                    tree, columns: block.columns, groupBytes: block.groupBytes, rows: block.rows,
                    into: block.out, nodes: buffers.quantizedNodes, splats: splats,
                    leaves: buffers.leaves, scratch: scratch, positions: buffers.positions)
            case .plain(let tree):
                walkPlain(
                    tree, features: block.features, rows: block.rows, into: block.out,
                    nodes: buffers.nodes, positions: buffers.positions)
            }
        }
        finish(block.out, rows: block.rows)
    }

    /// XGBoost's `common::Sigmoid`, in `Float` as XGBoost computes it.
    @inline(__always)
    static func sigmoid(_ margin: Float) -> Float {
        1 / (1 + expf(-margin))
    }
}
