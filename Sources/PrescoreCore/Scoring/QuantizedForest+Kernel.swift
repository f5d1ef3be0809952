// Compiled twice, into PrescoreCore and PrescoreScoringAVX2: see XGBoostModel+Kernel.swift.
#if PRESCORE_SCORING_AVX2
    import PrescoreCore
#endif

extension QuantizedForest {
    /// Bytes one vector of bins spans, whatever their width.
    static let vectorBytes = 32
    /// The most levels any width decides with vectors.
    static let vectorLevels = max(SIMD32<Int8>.vectorLevels, SIMD16<Int16>.vectorLevels)
    /// Intermediate masks the kernel keeps (as vectors): one level's pairs plus one decision per level.
    static let scratchMasks = (1 << (vectorLevels - 1)) + vectorLevels

    /// Adds the leaf of `tree` that each of `rows` rows reaches to `out`.
    ///
    /// `columns` holds the block's bins as `FeatureBins.fill` wrote them, `groupBytes` apart per
    /// vector of rows. For each vector, every node of the top levels is compared for all lanes at
    /// once (with the vector operations of `BinLanes`), and each row's decision is picked from its
    /// node's by the decisions above it. Deeper levels continue one row at a time.
    @inline(__always)
    func walk<Lanes: BinLanes>(
        _ tree: PerfectTree, columns: UnsafeRawPointer, groupBytes: Int, rows: Int,
        into out: UnsafeMutablePointer<Float>, nodes: UnsafePointer<Node>, splats: UnsafePointer<Lanes>,
        leaves: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Lanes>,
        positions: UnsafeMutablePointer<Int32>
    ) {
        let lanes = Lanes.scalarCount
        let treeNodes = nodes + tree.nodeOffset
        let treeSplats = splats + tree.splatOffset
        let treeLeaves = leaves + tree.leafOffset
        let levels = min(tree.depth, Lanes.vectorLevels)
        let firstLeaf = Int32((1 << tree.depth) - 1)
        // The heap index of the first node below the vector levels.
        let firstVisited = Int32((1 << levels) - 1)
        var group = 0
        var row = 0
        while row < rows {
            let groupColumns = columns + group * groupBytes
            let reached = Self.decide(
                groupColumns.assumingMemoryBound(to: Lanes.self), nodes: treeNodes, splats: treeSplats,
                levels: levels, scratch: scratch)
            let count = min(lanes, rows &- row)
            let rowOut = out + row
            withUnsafeBytes(of: reached) { reached in
                let paths = reached.bindMemory(to: Lanes.Scalar.self)
                if tree.depth <= levels {
                    for lane in 0..<count { rowOut[lane] += treeLeaves[Int(paths[lane])] }
                    return
                }
                for lane in 0..<count {
                    positions[lane] = Int32(truncatingIfNeeded: paths[lane]) &+ firstVisited
                }
                Self.continueWalk(
                    groupColumns.assumingMemoryBound(to: Lanes.Scalar.self), lanes: lanes, nodes: treeNodes,
                    levels: tree.depth &- levels, count: count, positions: positions)
                for lane in 0..<count { rowOut[lane] += treeLeaves[Int(positions[lane] &- firstLeaf)] }
            }
            row &+= count
            group &+= 1
        }
    }

    /// The path of every lane through the top `levels` levels, as a number whose bits are the
    /// decisions (1 = right), the root's first.
    @inline(__always)
    static func decide<Lanes: BinLanes>(
        _ columns: UnsafePointer<Lanes>, nodes: UnsafePointer<Node>, splats: UnsafePointer<Lanes>,
        levels: Int, scratch: UnsafeMutablePointer<Lanes>
    ) -> Lanes {
        let decisions = scratch + (1 << (vectorLevels - 1))
        var last = Lanes.greater(columns[Int(nodes[0].column)], splats[0])
        decisions[0] = last
        var path = Lanes.append(last, to: Lanes())
        var level = 1
        while level < levels {
            let first = (1 &<< level) &- 1
            let count = 1 &<< level
            // Node j of this level is the one a lane whose path so far is j reaches. Pairs (2j, 2j+1)
            // differ only in the last decision, so pick between them by it right away...
            var j = 0
            while j < count {
                let left = first &+ j
                let right = left &+ 1
                let goesLeft = Lanes.greater(columns[Int(nodes[left].column)], splats[left])
                let goesRight = Lanes.greater(columns[Int(nodes[right].column)], splats[right])
                scratch[j &>> 1] = Lanes.pick(goesLeft, goesRight, by: last)
                j &+= 2
            }
            // ...then by each earlier decision, halving the candidates, up to the root's.
            var width = count &>> 1
            var decision = level &- 2
            while width > 1 {
                let mask = decisions[decision]
                var i = 0
                while i < width {
                    scratch[i &>> 1] = Lanes.pick(scratch[i], scratch[i &+ 1], by: mask)
                    i &+= 2
                }
                width &>>= 1
                decision &-= 1
            }
            last = scratch[0]
            decisions[level] = last
            path = Lanes.append(last, to: path)
            level &+= 1
        }
        return path
    }

    /// Walks `levels` more levels one lane at a time, level by level over all lanes so the lanes'
    /// independent walks overlap. `positions` holds heap indices.
    @inline(__always)
    static func continueWalk<Bin: FixedWidthInteger & SignedInteger>(
        _ bins: UnsafePointer<Bin>, lanes: Int, nodes: UnsafePointer<Node>, levels: Int, count: Int,
        positions: UnsafeMutablePointer<Int32>
    ) {
        for _ in 0..<levels {
            for lane in 0..<count {
                let position = positions[lane]
                let node = nodes[Int(position)]
                let bin = Int16(truncatingIfNeeded: bins[Int(node.column) &* lanes &+ lane])
                positions[lane] = position &* 2 &+ 1 &+ (bin > node.threshold ? 1 : 0)
            }
        }
    }
}
