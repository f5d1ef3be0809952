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
///
/// The scoring files (`XGBoostModel+Kernel.swift` and the rest it calls) are compiled twice: here,
/// for any CPU, and in PrescoreScoringAVX2 for AVX2, whose `AVX2Scorer` wraps a model on CPUs that
/// have it. What they read of the model is `package`, so both builds share one model.
public struct XGBoostModel: Scorer {
    /// The objectives whose output transform this scorer knows.
    public enum Objective: String, Sendable, CaseIterable {
        case binaryLogistic = "binary:logistic"
        case regLogistic = "reg:logistic"
        case regSquaredError = "reg:squarederror"

        package var isLogistic: Bool { self != .regSquaredError }
    }

    /// One node, 16 bytes so a tree level touches one cache line per row. Children are stored side by
    /// side (`firstChild` is the left one, `firstChild + 1` the right one), so the walk computes the next
    /// node as `firstChild + goRight` without a branch. A leaf has `firstChild` pointing to itself and a
    /// NaN threshold, which no comparison passes: walking past a leaf is a no-op, so every tree can be
    /// walked for exactly its depth.
    package struct Node: Sendable, Equatable {
        /// The feature index, with the top bit set when a missing value goes right.
        package var featureAndMissingRight: UInt32
        package var threshold: Float
        package var firstChild: Int32
        package var leafValue: Float

        package static let missingRightBit: UInt32 = 1 << 31
    }

    /// A tree's place in `nodes` and how many levels a walk through it needs.
    package struct Tree: Sendable, Equatable {
        package var root: Int32
        package var depth: Int
    }

    public let featureNames: [String]?
    public let featureCount: Int
    public var version: String?
    public let objective: Objective
    /// `base_score` as a margin (its logit for logistic objectives), where every row's sum starts.
    public let baseMargin: Float
    /// The XGBoost version that wrote the file, e.g. `[3, 2, 0]`.
    public let writerVersion: [Int]
    package let nodes: [Node]
    package let trees: [Tree]
    /// The same trees compiled for the quantized kernel, with the float path for those it cannot take.
    package let forest: QuantizedForest

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
    package static let blockSize = 256
    /// Fewer rows take the float walk: the kernel decides a whole vector of rows (16 or 32) at the
    /// cost of one, so a realtime fallback's single row would pay for 32.
    package static let quantizedMinimumRows = 8

    /// Scores with this module's (baseline) build of the kernel.
    @discardableResult
    public func score(
        _ features: UnsafeBufferPointer<Float>, into scores: UnsafeMutableBufferPointer<Float>
    ) -> Int {
        scoreWithKernel(features, into: scores)
    }
}
