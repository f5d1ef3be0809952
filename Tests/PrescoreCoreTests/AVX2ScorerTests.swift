import Foundation
import PrescoreScoringAVX2
import Testing

@testable import PrescoreCore

private let cpuHasAVX2 =
    (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.contains(" avx2") ?? false

/// `AVX2Scorer` runs PrescoreScoringAVX2's build of the kernel: it must score exactly as the plain
/// float walk, like PrescoreCore's build (`QuantizedForestTests`). Tests are debug builds, where
/// that module is built without AVX2 (see Package.swift); the release build's AVX2 code is held to
/// the baseline kernel's bits by `scripts/check-avx2-kernel.sh`, which `make test` runs.
@Suite(.enabled(if: cpuHasAVX2, "this CPU has no AVX2"))
struct AVX2ScorerTests {
    @Test func scoresAsThePlainWalkOnRandomForests() async throws {
        await RandomForest.checkAgainstPlainWalk(count: 60) { model, input, scores in
            let missing = AVX2Scorer(model).score(input, into: scores)
            #expect(missing == input.count { $0.isNaN })
        }
    }

    @Test func forwardsTheModelsDescription() throws {
        let model = try RandomForest(seed: 1, trees: 3, depth: 2, features: 3, distinctThresholds: 5).model()
        let scorer = AVX2Scorer(model)
        #expect(scorer.featureNames == model.featureNames)
        #expect(scorer.featureCount == model.featureCount)
        #expect(scorer.version == model.version)
        #expect(scorer.computesLocally)
    }
}
