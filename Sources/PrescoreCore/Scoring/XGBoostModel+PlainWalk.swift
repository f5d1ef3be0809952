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
                positions[row] = Self.step(nodes[Int(positions[row])], row: features + rowBase)
                rowBase &+= stride
            }
        }
        for row in 0..<rows { out[row] += nodes[Int(positions[row])].leafValue }
    }

    /// Where `row` goes from `node`: XGBoost's `value < threshold` goes left, a missing (NaN) value
    /// its node's default way; both terms are 0 or 1, computed without branches. A leaf leads to
    /// itself (its threshold is NaN and its missing direction left), so a walk may run past it.
    @inline(__always)
    static func step(_ node: Node, row: UnsafePointer<Float>) -> Int32 {
        let value = row[Int(node.featureAndMissingRight & ~Node.missingRightBit)]
        let goRight =
            bit(value >= node.threshold)
            | (bit(value.isNaN) & Int32(bitPattern: node.featureAndMissingRight >> 31))
        return node.firstChild &+ goRight
    }

    /// Trees a few-row walk advances together.
    static let interleavedTrees = 8

    /// Scores a few rows (the realtime fallback's one) a row at a time, walking `interleavedTrees`
    /// trees of it together, a level of each in turn. The walk of one row through one tree waits on
    /// each node's load before it knows the next; the trees' walks do not depend on each other, so
    /// eight of them keep eight loads in flight. Between two misses the model has left the cache,
    /// and a tree at a time cost 30 µs a row here. Leaves are still added in model order: the same
    /// bits as `scorePlain`.
    func scoreFewRows(_ features: UnsafeBufferPointer<Float>, into scores: UnsafeMutableBufferPointer<Float>)
    {
        precondition(features.count == scores.count * featureCount, "feature block size mismatch")
        guard let base = features.baseAddress else { return }
        nodes.withUnsafeBufferPointer { nodes in
            let nodes = Self.address(nodes)
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: Self.interleavedTrees) { positions in
                for row in 0..<scores.count {
                    let values = base + row * featureCount
                    var sum = baseMargin
                    var first = 0
                    while first < trees.count {
                        let group = trees[first..<min(first + Self.interleavedTrees, trees.count)]
                        var depth = 0
                        for (lane, tree) in zip(0..., group) {
                            positions[lane] = tree.root
                            depth = max(depth, tree.depth)
                        }
                        for _ in 0..<depth {
                            for lane in 0..<group.count {
                                positions[lane] = Self.step(nodes[Int(positions[lane])], row: values)
                            }
                        }
                        for lane in 0..<group.count { sum += nodes[Int(positions[lane])].leafValue }
                        first += group.count
                    }
                    scores[row] = sum
                }
            }
        }
        if let out = scores.baseAddress { finish(out, rows: scores.count) }
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
