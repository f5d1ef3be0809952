import Foundation

/// A gradient-boosted tree ensemble read from XGBoost's JSON format, scored exactly as XGBoost does.
///
/// Exactness: features are compared as `Float` (`value < threshold` goes left, a missing value follows
/// the node's default direction), and leaf values are added in `Float`, tree by tree in model order,
/// starting from the margin of `base_score`, as XGBoost's CPU predictor does.
///
/// Speed: rows are scored in blocks of 256. Each block's features are first replaced by their bins
/// (`FeatureBins`: exact, one binary search per value), then each tree is walked for the whole block
/// before the next. Trees whose features all have bins take the quantized kernel
/// (`QuantizedForest`): their top levels are decided for 16 or 32 rows at once with vector compares,
/// without branches. Other trees take the float walk (`walkPlain`), one level at a time for the whole
/// block. A row-at-a-time walk is bound by branch mispredictions and runs several times slower.
public struct XGBoostModel: Scorer {
    /// The objectives whose output transform this scorer knows.
    public enum Objective: String, Sendable, CaseIterable {
        case binaryLogistic = "binary:logistic"
        case regLogistic = "reg:logistic"
        case regSquaredError = "reg:squarederror"

        var isLogistic: Bool { self != .regSquaredError }
    }

    /// One node, 16 bytes so a tree level touches one cache line per row. Children are stored side by
    /// side (`firstChild` is the left one, `firstChild + 1` the right one), so the walk computes the next
    /// node as `firstChild + goRight` without a branch. A leaf has `firstChild` pointing to itself and a
    /// NaN threshold, which no comparison passes: walking past a leaf is a no-op, so every tree can be
    /// walked for exactly its depth.
    struct Node: Sendable, Equatable {
        /// The feature index, with the top bit set when a missing value goes right.
        var featureAndMissingRight: UInt32
        var threshold: Float
        var firstChild: Int32
        var leafValue: Float

        static let missingRightBit: UInt32 = 1 << 31
    }

    /// A tree's place in `nodes` and how many levels a walk through it needs.
    struct Tree: Sendable, Equatable {
        var root: Int32
        var depth: Int
    }

    public let featureNames: [String]?
    public let featureCount: Int
    public var version: String?
    public let objective: Objective
    /// `base_score` as a margin (its logit for logistic objectives), where every row's sum starts.
    public let baseMargin: Float
    /// The XGBoost version that wrote the file, e.g. `[3, 2, 0]`.
    public let writerVersion: [Int]
    let nodes: [Node]
    let trees: [Tree]
    /// The same trees compiled for the quantized kernel, with the float path for those it cannot take.
    let forest: QuantizedForest

    public var treeCount: Int { trees.count }
    /// The deepest tree's depth (edges from root to leaf).
    public var maxDepth: Int { trees.map(\.depth).max() ?? 0 }
    /// The levels a row is walked through, over all trees: the unit of work a scorer's speed is
    /// measured in (one node visit each).
    public var levelsPerRow: Int { trees.reduce(0) { $0 + $1.depth } }
    /// How many trees the quantized kernel walks (the rest take the float path), and the width of
    /// its bins in bits.
    public var quantizedPath: (trees: Int, binBits: Int) {
        (forest.quantizedTreeCount, forest.bins.width == .byte ? 8 : 16)
    }

    /// Rows scored together: each tree is walked for the whole block before the next, so the tree
    /// stays in L1 while the block's bins (256 rows × 2 bytes a feature) do too.
    static let blockSize = 256
    /// Fewer rows take the float walk: the kernel decides a whole vector of rows (16 or 32) at the
    /// cost of one, so a realtime fallback's single row would pay for 32.
    static let quantizedMinimumRows = 8

    @discardableResult
    public func score(
        _ features: UnsafeBufferPointer<Float>, into scores: UnsafeMutableBufferPointer<Float>
    ) -> Int {
        precondition(features.count == scores.count * featureCount, "feature block size mismatch")
        var missing = 0
        for value in features where value.isNaN { missing += 1 }
        // Binning a block only pays when some tree reads the bins.
        if scores.count < Self.quantizedMinimumRows || forest.quantizedTreeCount == 0 {
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
