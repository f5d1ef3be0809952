import Foundation
import PropertyBased
import Testing

@testable import PrescoreCore

/// The quantized kernel must score exactly as the plain float walk does: same bits, on any tree and
/// any row. Random forests cover what the demo model does not: deep trees (past the vector levels, and
/// past the perfect-tree limit, so float-path trees interleave with quantized ones; and trees that
/// are a single leaf), features with
/// more thresholds than a byte holds (16-bit bins), leaves at every level, and row counts that are not
/// a multiple of a vector or a block.
@Suite struct QuantizedForestTests {
    @Test func fastPathEqualsPlainWalkOnRandomForests() async throws {
        await RandomForest.checkAgainstPlainWalk(count: 150) { model, input, scores in
            model.scoreQuantized(input, into: scores)
        }
    }

    /// The few-row walk (trees interleaved) gives the plain walk's bits too.
    @Test func fewRowWalkEqualsPlainWalkOnRandomForests() async throws {
        await RandomForest.checkAgainstPlainWalk(count: 150) { model, input, scores in
            model.scoreFewRows(input, into: scores)
        }
    }

    /// `score` takes either path by row count and counts missing values either way.
    @Test func scoreEqualsBothPathsAndCountsMissingValues() throws {
        let forest = RandomForest(seed: 3, trees: 20, depth: 7, features: 4, distinctThresholds: 100)
        let model = try forest.model()
        for rows in [1, XGBoostModel.quantizedMinimumRows - 1, XGBoostModel.quantizedMinimumRows, 300] {
            let input = forest.rows(rows)
            var scores = [Float](repeating: 0, count: rows)
            var plain = [Float](repeating: 1, count: rows)
            let missing = input.withUnsafeBufferPointer { input in
                scores.withUnsafeMutableBufferPointer { model.score(input, into: $0) }
            }
            input.withUnsafeBufferPointer { input in
                plain.withUnsafeMutableBufferPointer { model.scorePlain(input, into: $0) }
            }
            #expect(missing == input.count { $0.isNaN })
            #expect(scores.map(\.bitPattern) == plain.map(\.bitPattern))
        }
    }

    /// A model without trees scores its base score on either path.
    @Test func aModelWithoutTreesScoresItsBaseScore() throws {
        let forest = RandomForest(seed: 5, trees: 0, depth: 3, features: 2, distinctThresholds: 10)
        let model = try forest.model()
        for rows in [1, 300] {
            let input = forest.rows(rows)
            var scores = [Float](repeating: 0, count: rows)
            input.withUnsafeBufferPointer { input in
                scores.withUnsafeMutableBufferPointer { _ = model.score(input, into: $0) }
            }
            #expect(scores.allSatisfy { $0 == 0.5 })
        }
    }

    @Test func theDemoModelTakesTheQuantizedPathForEveryTree() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../jobs/models/fraud_risk.json").standardized
        let model = try XGBoostModel(json: Data(contentsOf: url), source: url.path)
        #expect(model.forest.quantizedTreeCount == model.treeCount)
    }

    @Test func aFeatureWithMoreThresholdsThanAByteHoldsGetsSixteenBitBins() throws {
        let forest = RandomForest(seed: 7, trees: 40, depth: 7, features: 1, distinctThresholds: 2_000)
        let model = try forest.model()
        #expect(model.forest.bins.thresholds[0].count > BinWidth.byte.maxThresholds)
        #expect(model.quantizedPath.binBits == 16)
        #expect(model.quantizedPath.trees == model.trees.count { $0.depth > 0 })  // one-leaf trees: float walk
    }

    /// Past 65,534 thresholds a feature has no bins; trees splitting on it keep the float walk while
    /// the others are quantized.
    @Test func treesOnAFeatureBeyondSixteenBitsTakeTheFloatPath() {
        typealias Node = XGBoostModel.Node
        var nodes: [Node] = []
        var trees: [XGBoostModel.Tree] = []
        // Stumps: one split and two leaves each; feature 0 gets 65,600 thresholds, feature 1 one.
        for index in 0..<65_601 {
            let root = Int32(nodes.count)
            let feature: UInt32 = index == 65_600 ? 1 : 0
            nodes.append(
                Node(
                    featureAndMissingRight: feature, threshold: Float(index), firstChild: root + 1,
                    leafValue: 0))
            for value in [Float(-1), 1] {
                let leaf = Int32(nodes.count)
                nodes.append(
                    Node(featureAndMissingRight: 0, threshold: .nan, firstChild: leaf, leafValue: value))
            }
            trees.append(XGBoostModel.Tree(root: root, depth: 1))
        }
        let forest = QuantizedForest(nodes: nodes, trees: trees, featureCount: 2)
        #expect(forest.bins.binnedFeatures == [1])
        #expect(forest.quantizedTreeCount == 1)
        #expect(
            forest.steps.last
                == .quantized(
                    QuantizedForest.PerfectTree(nodeOffset: 0, leafOffset: 0, splatOffset: 0, depth: 1)))
    }
}

/// A random XGBoost JSON model and rows for it, all drawn from one seed.
struct RandomForest {
    /// Checks `count` random forests, each on random rows, that `score` writes the plain float
    /// walk's scores bit for bit.
    static func checkAgainstPlainWalk(
        count: Int,
        _ score:
            @escaping @Sendable (XGBoostModel, UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>)
            -> Void
    ) async {
        await propertyCheck(
            count: count,
            input: Gen.uint64(), Gen.int(in: 1...30), Gen.int(in: 0...12), Gen.int(in: 1...6),
            Gen.int(in: 1...1_000), Gen.int(in: 1...600)
        ) { seed, trees, depth, features, distinct, rows in
            let forest = RandomForest(
                seed: seed, trees: trees, depth: depth, features: features, distinctThresholds: distinct)
            let model = try #require(try? forest.model())
            let input = forest.rows(rows)
            var fast = [Float](repeating: 0, count: rows)
            var plain = [Float](repeating: 1, count: rows)
            input.withUnsafeBufferPointer { input in
                fast.withUnsafeMutableBufferPointer { score(model, input, $0) }
                plain.withUnsafeMutableBufferPointer { model.scorePlain(input, into: $0) }
            }
            for row in 0..<rows where fast[row].bitPattern != plain[row].bitPattern {
                Issue.record("row \(row): \(fast[row]) vs the plain walk's \(plain[row])")
                break
            }
        }
    }

    var seed: UInt64
    var trees: Int
    var depth: Int
    var features: Int
    /// How many distinct split values each feature's thresholds are drawn from.
    var distinctThresholds: Int

    /// Each feature's candidate thresholds, 0 and its neighbours included.
    private var pools: [[Float]] {
        var random = SplitMix64(seed: seed ^ 0x5EED)
        return (0..<features).map { _ in
            (0..<distinctThresholds).map { index in
                index == 0 ? 0 : Float(Int.random(in: -100_000...100_000, using: &random)) / 50_000
            }
        }
    }

    func model() throws -> XGBoostModel {
        var random = SplitMix64(seed: seed)
        let pools = self.pools
        let trees = (0..<self.trees).map { _ in tree(pools: pools, using: &random) }
        let json: [String: Any] = [
            "version": [3, 2, 0],
            "learner": [
                "feature_names": (0..<features).map { "f\($0)" },
                "learner_model_param": [
                    "base_score": "5E-1", "num_feature": "\(features)", "num_class": "0", "num_target": "1",
                ],
                "objective": ["name": "binary:logistic"],
                "gradient_booster": ["name": "gbtree", "model": ["trees": trees]],
            ] as [String: Any],
        ]
        return try XGBoostModel(json: JSONSerialization.data(withJSONObject: json), source: "random.json")
    }

    /// One tree in XGBoost's arrays, grown depth first.
    private func tree(pools: [[Float]], using random: inout SplitMix64) -> [String: Any] {
        var left: [Int] = []
        var right: [Int] = []
        var feature: [Int] = []
        var condition: [Double] = []
        var defaultLeft: [Int] = []
        func grow(_ level: Int) -> Int {
            let index = left.count
            left.append(-1)
            right.append(-1)
            feature.append(0)
            defaultLeft.append(0)
            // A branch stops early one time in five, a root one time in twenty (a one-leaf tree).
            if level == depth || Int.random(in: 0..<(level == 0 ? 20 : 5), using: &random) == 0 {
                condition.append(Double(Float.random(in: -0.5...0.5, using: &random)))
                return index
            }
            let split = Int.random(in: 0..<features, using: &random)
            feature[index] = split
            condition.append(Double(pools[split].randomElement(using: &random)!))
            defaultLeft[index] = Int.random(in: 0...1, using: &random)
            left[index] = grow(level + 1)
            right[index] = grow(level + 1)
            return index
        }
        _ = grow(0)
        return [
            "left_children": left, "right_children": right, "split_indices": feature,
            "split_conditions": condition, "default_left": defaultLeft,
        ]
    }

    /// Rows whose values are often exactly a threshold, missing, infinite or a signed zero.
    func rows(_ count: Int) -> [Float] {
        var random = SplitMix64(seed: seed &+ 1)
        let pools = self.pools
        return (0..<(count * features)).map { index in
            switch Int.random(in: 0..<10, using: &random) {
            case 0: return .nan
            case 1, 2, 3: return pools[index % features].randomElement(using: &random)!
            case 4: return [Float.infinity, -.infinity, 0, -0.0].randomElement(using: &random)!
            default: return Float.random(in: -2.5...2.5, using: &random)
            }
        }
    }
}
