import Foundation
import Testing

@testable import PrescoreCore

/// Scores must equal XGBoost's own predictions: the committed fixtures were written by XGBoost.
@Suite struct XGBoostParityTests {
    /// Scores `input` with `model` after binding its columns by name, the way jobs and CSV input do.
    static func scores(model: XGBoostModel, input: URL, parallel: Bool = false) throws -> [Float] {
        let (header, keys, fileOrder) = try FixtureFiles.featureRows(input)
        let binding = try FeatureBinding(
            columns: Array(header.dropFirst()), featureNames: model.featureNames,
            featureCount: model.featureCount)
        var features = [Float](repeating: .nan, count: fileOrder.count)
        let columns = model.featureCount
        for row in 0..<keys.count {
            for column in 0..<columns {
                features[row * columns + binding.featureIndexForColumn[column]] =
                    fileOrder[row * columns + column]
            }
        }
        var scores = [Float](repeating: -1, count: keys.count)
        features.withUnsafeBufferPointer { features in
            scores.withUnsafeMutableBufferPointer { scores in
                if parallel {
                    _ = model.scoreInParallel(features, into: scores, threads: 2)
                } else {
                    _ = model.score(features, into: scores)
                }
            }
        }
        return scores
    }

    static func expected(_ url: URL) throws -> [Float] {
        try FixtureFiles.csv(url).rows.map { Float($0[1])! }
    }

    @Test func demoModelMatchesXGBoostOnEveryParityRow() throws {
        let url = FixtureFiles.repositoryRoot.appendingPathComponent("jobs/models/fraud_risk.json")
        let model = try XGBoostModel(json: FixtureFiles.data(url), source: url.path)
        #expect(model.treeCount >= 100)
        #expect(model.maxDepth == 6)
        let input = FixtureFiles.fixture("fraud_risk_parity_input.csv")
        let (_, _, features) = try FixtureFiles.featureRows(input)
        #expect(features.contains { $0.isNaN }, "the fixture must exercise missing values")
        let ours = try Self.scores(model: model, input: input)
        let theirs = try Self.expected(FixtureFiles.fixture("fraud_risk_parity_expected.csv"))
        #expect(ours.count == theirs.count)
        #expect(ours.count > 3_000)
        for (index, (mine, reference)) in zip(ours, theirs).enumerated() {
            #expect(abs(mine - reference) <= 1e-6, "row \(index + 2): \(mine) vs XGBoost \(reference)")
        }
        let parallel = try Self.scores(model: model, input: input, parallel: true)
        #expect(parallel == ours)
    }

    @Test(arguments: ["17", "21", "32"], ["binary_logistic", "reg_logistic", "reg_squarederror"])
    func everySupportedVersionAndObjectiveMatches(version: String, objective: String) throws {
        let stem = "xgboost-versions/xgb\(version)_\(objective)"
        let url = FixtureFiles.fixture("\(stem).json")
        let model = try XGBoostModel(json: FixtureFiles.data(url), source: url.lastPathComponent)
        #expect(
            model.objective.rawValue
                == objective.replacingOccurrences(
                    of: "_", with: ":", options: [], range: objective.range(of: "_")))
        let ours = try Self.scores(model: model, input: FixtureFiles.fixture("xgboost-versions/input.csv"))
        let theirs = try Self.expected(FixtureFiles.fixture("\(stem)_expected.csv"))
        #expect(ours.count == theirs.count)
        for (index, (mine, reference)) in zip(ours, theirs).enumerated() {
            let tolerance: Float = objective == "reg_squarederror" ? 1e-6 * max(1, abs(reference)) : 1e-6
            #expect(abs(mine - reference) <= tolerance, "row \(index): \(mine) vs XGBoost \(reference)")
        }
    }

    @Test func aModelWithoutFeatureNamesBindsByPosition() throws {
        let url = FixtureFiles.fixture("xgboost-versions/xgb17_binary_logistic.json")
        let model = try XGBoostModel(json: FixtureFiles.data(url), source: "m.json")
        #expect(model.featureNames == nil)
        let binding = try FeatureBinding(
            columns: ["a", "b", "c", "d", "e", "f"], featureNames: nil, featureCount: 6)
        #expect(binding.isPositional)
        #expect(throws: CoreError.self) {
            try FeatureBinding(columns: ["a", "b"], featureNames: nil, featureCount: 6)
        }
    }
}
