import Foundation
import Testing

@testable import PrescoreCore

@Suite struct LogisticModelTests {
    let model = LogisticModel(
        intercept: -2, features: [("a", 0.5), ("b", -1)], link: .logit, version: "v1")

    func score(_ model: LogisticModel, _ rows: [[Float]]) -> (scores: [Float], missing: Int) {
        var scores = [Float](repeating: 0, count: rows.count)
        let flat = rows.flatMap { $0 }
        let missing = flat.withUnsafeBufferPointer { features in
            scores.withUnsafeMutableBufferPointer { model.score(features, into: $0) }
        }
        return (scores, missing)
    }

    @Test func logitLinkGivesTheLogisticOfTheSum() {
        let (scores, missing) = score(model, [[2, 1]])
        #expect(missing == 0)
        #expect(abs(scores[0] - Float(1 / (1 + exp(2.0)))) < 1e-7)  // sum = -2 + 1 - 1 = -2
    }

    @Test func identityLinkGivesTheSum() {
        let identity = LogisticModel(intercept: 1, features: [("a", 2)], link: .identity, version: nil)
        #expect(score(identity, [[3], [-1]]).scores == [7, -1])
    }

    @Test func aMissingValueContributesZeroAndIsCounted() {
        let (scores, missing) = score(model, [[.nan, 1], [.nan, .nan]])
        #expect(missing == 3)
        #expect(abs(scores[0] - Float(1 / (1 + exp(3.0)))) < 1e-7)  // -2 + 0 - 1
        #expect(abs(scores[1] - Float(1 / (1 + exp(2.0)))) < 1e-7)
    }
}
