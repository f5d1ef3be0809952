import Foundation

/// A gradient-boosted tree ensemble read from XGBoost's JSON format, scored exactly as XGBoost does.
///
/// Exactness: features are compared as `Float` (`value < threshold` goes left, a missing value follows
/// the node's default direction), and leaf values are added in `Float`, tree by tree in model order,
/// starting from the margin of `base_score`, as XGBoost's CPU predictor does.
///
/// Speed: rows are walked through each tree in blocks, one level at a time for the whole block, so
/// the inner loop has many independent rows and no data-dependent branches (see
/// `scoreBlock`). A row-at-a-time walk is bound by branch mispredictions and runs several times slower.
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

    /// Rows scored together: each tree is walked for the whole block before the next, so the tree
    /// stays in L1 while the block's bins (256 rows × 2 bytes a feature) do too.
    static let blockSize = 256

    @discardableResult
    public func score(
        _ features: UnsafeBufferPointer<Float>, into scores: UnsafeMutableBufferPointer<Float>
    ) -> Int {
        precondition(features.count == scores.count * featureCount, "feature block size mismatch")
        var missing = 0
        for value in features where value.isNaN { missing += 1 }
        guard let base = features.baseAddress, let out = scores.baseAddress else { return missing }
        let groupBytes = featureCount * 2 * QuantizedForest.lanes
        withUnsafeTemporaryAllocation(
            byteCount: groupBytes * (Self.blockSize / QuantizedForest.lanes), alignment: 64
        ) { columns in
            columns.initializeMemory(as: UInt8.self, repeating: 0)
            withKernelBuffers { buffers in
                var start = 0
                while start < scores.count {
                    let count = min(Self.blockSize, scores.count - start)
                    scoreBlock(
                        base + start * featureCount, rows: count, into: out + start,
                        columns: columns.baseAddress!, groupBytes: groupBytes, buffers: buffers)
                    start += count
                }
            }
        }
        return missing
    }

    /// Scores up to `blockSize` rows: bins them once, then adds every tree's leaf in model order
    /// (the order XGBoost adds them in, so sums are bit-identical), each tree by its own path.
    @inline(__always)
    private func scoreBlock(
        _ features: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>,
        columns: UnsafeMutableRawPointer, groupBytes: Int, buffers: KernelBuffers
    ) {
        forest.bins.fill(
            columns: columns.assumingMemoryBound(to: UInt8.self), features: features, rows: rows,
            featureCount: featureCount, lanes: QuantizedForest.lanes)
        for row in 0..<rows { out[row] = baseMargin }
        for step in forest.steps {
            switch step {
            case .quantized(let tree):
                forest.walk(
                    tree, columns: columns, groupBytes: groupBytes, rows: rows, into: out,
                    nodes: buffers.quantizedNodes, splats: buffers.splats, leaves: buffers.leaves,
                    scratch: buffers.scratch,
                    positions: buffers.positions)
            case .plain(let tree):
                walkPlain(
                    tree, features: features, rows: rows, into: out, nodes: buffers.nodes,
                    positions: buffers.positions)
            }
        }
        finish(out, rows: rows)
    }

    /// XGBoost's `common::Sigmoid`, in `Float` as XGBoost computes it.
    @inline(__always)
    static func sigmoid(_ margin: Float) -> Float {
        1 / (1 + expf(-margin))
    }
}
