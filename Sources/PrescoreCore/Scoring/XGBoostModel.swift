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

    public var treeCount: Int { trees.count }
    /// The deepest tree's depth (edges from root to leaf).
    public var maxDepth: Int { trees.map(\.depth).max() ?? 0 }

    /// Rows walked together through a tree level. 256 rows × 16 features fit in L1 beside the
    /// node indices; larger blocks stop paying off.
    static let blockSize = 256

    @discardableResult
    public func score(
        _ features: UnsafeBufferPointer<Float>, into scores: UnsafeMutableBufferPointer<Float>
    ) -> Int {
        precondition(features.count == scores.count * featureCount, "feature block size mismatch")
        var missing = 0
        for value in features where value.isNaN { missing += 1 }
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: Self.blockSize) { positions in
            nodes.withUnsafeBufferPointer { nodes in
                var start = 0
                while start < scores.count {
                    let count = min(Self.blockSize, scores.count - start)
                    let block = UnsafeBufferPointer(
                        rebasing: features[(start * featureCount)..<((start + count) * featureCount)])
                    let out = UnsafeMutableBufferPointer(rebasing: scores[start..<(start + count)])
                    scoreBlock(block, into: out, nodes: nodes, positions: positions)
                    start += count
                }
            }
        }
        return missing
    }

    /// Scores up to `blockSize` rows: for each tree, every row advances one level per pass.
    @inline(__always)
    private func scoreBlock(
        _ features: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>,
        nodes: UnsafeBufferPointer<Node>, positions: UnsafeMutableBufferPointer<Int32>
    ) {
        let rows = out.count
        let stride = featureCount
        for row in 0..<rows { out[row] = baseMargin }
        for tree in trees {
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
        if objective.isLogistic {
            for row in 0..<rows { out[row] = Self.sigmoid(out[row]) }
        }
    }

    @inline(__always)
    private static func bit(_ condition: Bool) -> Int32 { condition ? 1 : 0 }

    /// XGBoost's `common::Sigmoid`, in `Float` as XGBoost computes it.
    @inline(__always)
    static func sigmoid(_ margin: Float) -> Float {
        1 / (1 + expf(-margin))
    }
}
