// Compiled twice, into PrescoreCore and PrescoreScoringAVX2: see XGBoostModel+Kernel.swift.
#if PRESCORE_SCORING_AVX2
    import PrescoreCore
#endif

extension XGBoostModel {
    /// Walks `rows` rows of `features` through one tree, one level at a time for the whole block, and
    /// adds the leaf each row reaches to `out`. This is the float path: it reads the raw feature values,
    /// so it serves every tree (any depth, any number of distinct thresholds), and it is the reference
    /// the quantized kernel is tested against.
    ///
    /// Every row of the block advances one level per pass, so the inner loop has many independent rows
    /// and no data-dependent branches; a row-at-a-time walk is bound by branch mispredictions.
    @inline(__always)
    func walkPlain(
        _ tree: Tree, features: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>,
        nodes: UnsafePointer<Node>, positions: UnsafeMutablePointer<Int32>
    ) {
        let stride = featureCount
        for row in 0..<rows { positions[row] = tree.root }
        for _ in 0..<tree.depth {
            var rowBase = 0
            for row in 0..<rows {
                let node = nodes[Int(positions[row])]
                let feature = Int(node.featureAndMissingRight & ~Node.missingRightBit)
                let value = features[rowBase &+ feature]
                // XGBoost: `value < threshold` goes left; a missing (NaN) value goes its node's
                // default way. Both terms are 0 or 1, computed without branches.
                let goRight =
                    Self.bit(value >= node.threshold)
                    | (Self.bit(value.isNaN) & Int32(bitPattern: node.featureAndMissingRight >> 31))
                positions[row] = node.firstChild &+ goRight
                rowBase &+= stride
            }
        }
        for row in 0..<rows { out[row] += nodes[Int(positions[row])].leafValue }
    }

    /// Scores rows with the float path only, tree by tree, in blocks of `blockSize` rows (so a
    /// block's features stay in cache while every tree walks it): the plain walk every faster path
    /// must equal bit for bit (tests compare them on random trees and rows).
    func scorePlain(_ features: UnsafeBufferPointer<Float>, into scores: UnsafeMutableBufferPointer<Float>) {
        precondition(features.count == scores.count * featureCount, "feature block size mismatch")
        guard let base = features.baseAddress, let out = scores.baseAddress else { return }
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: min(scores.count, Self.blockSize)) {
            positions in
            nodes.withUnsafeBufferPointer { nodes in
                var start = 0
                while start < scores.count {
                    let rows = min(Self.blockSize, scores.count - start)
                    let blockOut = out + start
                    for row in 0..<rows { blockOut[row] = baseMargin }
                    for tree in trees {
                        walkPlain(
                            tree, features: base + start * featureCount, rows: rows, into: blockOut,
                            nodes: Self.address(nodes), positions: positions.baseAddress!)
                    }
                    finish(blockOut, rows: rows)
                    start += rows
                }
            }
        }
    }

    /// Applies the objective's output transform to margins.
    @inline(__always)
    func finish(_ out: UnsafeMutablePointer<Float>, rows: Int) {
        guard objective.isLogistic else { return }
        for row in 0..<rows { out[row] = Self.sigmoid(out[row]) }
    }

    @inline(__always)
    static func bit(_ condition: Bool) -> Int32 { condition ? 1 : 0 }
}
