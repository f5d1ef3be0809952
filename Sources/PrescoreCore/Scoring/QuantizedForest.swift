/// The trees of an `XGBoostModel` compiled for the quantized kernel: each tree that qualifies is stored
/// as a perfect binary tree over 8- or 16-bit bins (see `FeatureBins`), the rest stay on the float
/// path.
///
/// Why perfect trees: a tree of depth `d` padded to `2ᵈ - 1` split nodes in heap order needs no child
/// pointers (the children of node `i` are `2i + 1` and `2i + 2`), and every row ends at leaf index
/// `0 ..< 2ᵈ`, so its top levels can be decided for many rows at once with vector compares (see
/// `QuantizedForest+Kernel.swift`). A leaf above the last level is padded with nodes that always go
/// left down to a copy of its value, which changes no score.
package struct QuantizedForest: Sendable {
    /// A split over bins: the row goes right when its bin in `column` is greater than `threshold`
    /// (signed, of the forest's `BinWidth`). `column` is `2 × feature`, or `2 × feature + 1` when a
    /// missing value goes right: the two columns hold the bins shifted so that bin 0 (missing) sorts
    /// first or last.
    package struct Node: Sendable, Equatable {
        package var column: UInt16
        package var threshold: Int16
    }

    /// A tree in perfect layout: `2^depth - 1` nodes from `nodeOffset`, `2^depth` leaves from
    /// `leafOffset`, and the splats of the nodes of its vector levels from `splatOffset`.
    package struct PerfectTree: Sendable, Equatable {
        package var nodeOffset: Int
        package var leafOffset: Int
        package var splatOffset: Int
        package var depth: Int
    }

    /// How one tree of the model is walked, in model order (leaf values are added in this order).
    package enum Step: Sendable, Equatable {
        case quantized(PerfectTree)
        case plain(XGBoostModel.Tree)
    }

    /// Deeper trees take the float path: a perfect tree doubles in size with each level.
    static let maxDepth = 10

    package let bins: FeatureBins
    package let steps: [Step]
    package let nodes: [Node]
    /// The threshold of each node of a tree's vector levels repeated in every lane, so a compare
    /// reads it with one load (32 bytes a node, so only those levels have them: a depth-10 tree has
    /// 1,023 nodes, its top 6 levels 63); only the array of the forest's width is filled.
    package let byteSplats: [SIMD32<Int8>]
    package let wordSplats: [SIMD16<Int16>]
    package let leaves: [Float]

    /// How many trees take the quantized kernel (read on every `score` call, so counted once).
    package let quantizedTreeCount: Int

    init(nodes source: [XGBoostModel.Node], trees: [XGBoostModel.Tree], featureCount: Int) {
        let splits = source.filter { !$0.threshold.isNaN }.map {
            (
                feature: Int($0.featureAndMissingRight & ~XGBoostModel.Node.missingRightBit),
                threshold: $0.threshold
            )
        }
        let bins = FeatureBins(splits: splits, featureCount: featureCount)
        let vectorLevels = bins.width == .byte ? SIMD32<Int8>.vectorLevels : SIMD16<Int16>.vectorLevels
        var splatCount = 0
        var nodes: [Node] = []
        var leaves: [Float] = []
        var steps: [Step] = []
        for tree in trees {
            // A tree that is a single leaf (depth 0) has no level to decide: the float walk just adds
            // it. A column index must fit a `UInt16`.
            guard (1...Self.maxDepth).contains(tree.depth), featureCount <= Int(UInt16.max) / 2,
                Self.features(of: tree, in: source).allSatisfy(bins.isBinned)
            else {
                steps.append(.plain(tree))
                continue
            }
            let perfect = PerfectTree(
                nodeOffset: nodes.count, leafOffset: leaves.count, splatOffset: splatCount, depth: tree.depth)
            splatCount += (1 << min(tree.depth, vectorLevels)) - 1
            nodes += [Node](
                repeating: Node(column: 0, threshold: bins.width.alwaysLeft), count: (1 << tree.depth) - 1)
            leaves += [Float](repeating: 0, count: 1 << tree.depth)
            Self.place(
                Int(tree.root), at: 0, level: 0, tree: perfect, source: source, bins: bins, nodes: &nodes,
                leaves: &leaves)
            steps.append(.quantized(perfect))
        }
        self.bins = bins
        self.steps = steps
        self.quantizedTreeCount = steps.count { if case .quantized = $0 { true } else { false } }
        self.nodes = nodes
        let splatted = steps.flatMap { step -> ArraySlice<Node> in
            guard case .quantized(let tree) = step else { return [] }
            return nodes[tree.nodeOffset..<(tree.nodeOffset + (1 << min(tree.depth, vectorLevels)) - 1)]
        }
        self.byteSplats =
            bins.width == .byte
            ? splatted.map { SIMD32(repeating: Int8(truncatingIfNeeded: $0.threshold)) } : []
        self.wordSplats = bins.width == .word ? splatted.map { SIMD16(repeating: $0.threshold) } : []
        self.leaves = leaves
    }

    /// The features a tree splits on.
    private static func features(of tree: XGBoostModel.Tree, in source: [XGBoostModel.Node]) -> Set<Int> {
        var features = Set<Int>()
        var pending = [Int(tree.root)]
        while let index = pending.popLast() {
            let node = source[index]
            guard !node.threshold.isNaN else { continue }
            features.insert(Int(node.featureAndMissingRight & ~XGBoostModel.Node.missingRightBit))
            pending += [Int(node.firstChild), Int(node.firstChild) + 1]
        }
        return features
    }

    /// Puts source node `index` at heap position `position` of `tree`, its subtree below it.
    private static func place(
        _ index: Int, at position: Int, level: Int, tree: PerfectTree, source: [XGBoostModel.Node],
        bins: FeatureBins, nodes: inout [Node], leaves: inout [Float]
    ) {
        let node = source[index]
        if level == tree.depth {
            leaves[tree.leafOffset + position - ((1 << tree.depth) - 1)] = node.leafValue
            return
        }
        let isLeaf = node.threshold.isNaN
        if !isLeaf {
            let feature = Int(node.featureAndMissingRight & ~XGBoostModel.Node.missingRightBit)
            let missingRight = node.featureAndMissingRight & XGBoostModel.Node.missingRightBit != 0
            let i = bins.index(of: node.threshold, feature: feature)
            // Go right when bin ≥ i + 2. Column a holds bin - bias, column b holds bin - 1 - bias
            // with bin 0 wrapped to the largest value (so a missing value goes right).
            let bias = bins.width.bias
            nodes[tree.nodeOffset + position] = Node(
                column: UInt16(2 * feature + (missingRight ? 1 : 0)),
                threshold: Int16(missingRight ? i - bias : i + 1 - bias))
        }
        // A leaf above the last level: padding sends every row left, so only the left copy is reached.
        let left = isLeaf ? index : Int(node.firstChild)
        let right = isLeaf ? index : Int(node.firstChild) + 1
        place(
            left, at: 2 * position + 1, level: level + 1, tree: tree, source: source, bins: bins,
            nodes: &nodes, leaves: &leaves)
        place(
            right, at: 2 * position + 2, level: level + 1, tree: tree, source: source, bins: bins,
            nodes: &nodes, leaves: &leaves)
    }
}
