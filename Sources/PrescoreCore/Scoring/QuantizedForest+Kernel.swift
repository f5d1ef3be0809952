extension QuantizedForest {
    /// Rows decided together by one vector compare: one byte a row.
    typealias Lanes = SIMD32<Int8>
    static let lanes = 32
    /// The top levels decided with vector compares. Level `k` costs `2ᵏ` compares and about as many
    /// selects for `lanes` rows; past level 5 a scalar step per row is cheaper.
    static let vectorLevels = 6
    /// Space the kernel needs for intermediate masks: one level's pairs plus one decision per level.
    static let scratchMasks = (1 << (vectorLevels - 1)) + vectorLevels

    /// Adds the leaf of `tree` that each of `rows` rows reaches to `out`.
    ///
    /// `columns` holds the block's bins as `FeatureBins.fill` wrote them, `groupBytes` apart per group of
    /// `lanes` rows. For each group, every node of the top levels is compared for all lanes at once
    /// (Swift lowers `.>` on `SIMD32<Int8>` to byte compares, and `.&`/`.|` on masks to vector
    /// selects), and each row's decision is picked from its node's by the decisions above it. Deeper
    /// levels continue one row at a time.
    @inline(__always)
    func walk(
        _ tree: PerfectTree, columns: UnsafeRawPointer, groupBytes: Int, rows: Int,
        into out: UnsafeMutablePointer<Float>, nodes: UnsafePointer<Node>, splats: UnsafePointer<Lanes>,
        leaves: UnsafePointer<Float>, scratch: UnsafeMutablePointer<SIMDMask<Lanes>>,
        positions: UnsafeMutablePointer<Int32>
    ) {
        let treeNodes = nodes + tree.nodeOffset
        let treeSplats = splats + tree.nodeOffset
        let treeLeaves = leaves + tree.leafOffset
        let levels = min(tree.depth, Self.vectorLevels)
        let firstLeaf = (1 << tree.depth) - 1
        var group = 0
        var row = 0
        while row < rows {
            let groupColumns = columns + group * groupBytes
            let reached = Self.decide(
                groupColumns.assumingMemoryBound(to: Lanes.self), nodes: treeNodes, splats: treeSplats,
                levels: levels,
                scratch: scratch)
            let count = min(Self.lanes, rows - row)
            withUnsafeBytes(of: reached) { reached in
                for lane in 0..<count { positions[lane] = (1 << levels) - 1 + Int32(reached[lane]) }
            }
            if tree.depth > levels {
                Self.continueWalk(
                    groupColumns.assumingMemoryBound(to: Int8.self), nodes: treeNodes,
                    levels: tree.depth - levels, lanes: count, positions: positions)
            }
            for lane in 0..<count {
                out[row + lane] += treeLeaves[Int(positions[lane]) - firstLeaf]
            }
            row += count
            group += 1
        }
    }

    /// The path of every lane through the top `levels` levels, as a number whose bits are the
    /// decisions (1 = right), the root's first.
    @inline(__always)
    static func decide(
        _ columns: UnsafePointer<Lanes>, nodes: UnsafePointer<Node>, splats: UnsafePointer<Lanes>,
        levels: Int,
        scratch: UnsafeMutablePointer<SIMDMask<Lanes>>
    ) -> Lanes {
        let decisions = scratch + (1 << (vectorLevels - 1))
        var last = columns[Int(nodes[0].column)] .> splats[0]
        decisions[0] = last
        // A true mask lane is all ones (-1), so subtracting the mask adds the decision bit.
        var path = Lanes() &- unsafeBitCast(last, to: Lanes.self)
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
                let goesLeft = columns[Int(nodes[left].column)] .> splats[left]
                let goesRight = columns[Int(nodes[right].column)] .> splats[right]
                scratch[j &>> 1] = (goesLeft .& .!last) .| (goesRight .& last)
                j &+= 2
            }
            // ...then by each earlier decision, halving the candidates, up to the root's.
            var width = count &>> 1
            var decision = level &- 2
            while width > 1 {
                let mask = decisions[decision]
                var i = 0
                while i < width {
                    scratch[i &>> 1] = (scratch[i] .& .!mask) .| (scratch[i &+ 1] .& mask)
                    i &+= 2
                }
                width &>>= 1
                decision &-= 1
            }
            last = scratch[0]
            decisions[level] = last
            path = path &+ path &- unsafeBitCast(last, to: Lanes.self)
            level &+= 1
        }
        return path
    }

    /// Walks `levels` more levels one lane at a time, level by level over all lanes so the lanes'
    /// independent walks overlap. `positions` holds heap indices.
    @inline(__always)
    static func continueWalk(
        _ bytes: UnsafePointer<Int8>, nodes: UnsafePointer<Node>, levels: Int, lanes count: Int,
        positions: UnsafeMutablePointer<Int32>
    ) {
        for _ in 0..<levels {
            for lane in 0..<count {
                let position = positions[lane]
                let node = nodes[Int(position)]
                let byte = bytes[Int(node.column) &* lanes &+ lane]
                positions[lane] = position &* 2 &+ 1 &+ (byte > node.threshold ? 1 : 0)
            }
        }
    }
}
