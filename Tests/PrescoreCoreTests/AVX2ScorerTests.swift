import Foundation
import PrescoreScoringAVX2
import PropertyBased
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
        await propertyCheck(
            count: 60,
            input: Gen.uint64(), Gen.int(in: 1...30), Gen.int(in: 0...12), Gen.int(in: 1...6),
            Gen.int(in: 1...1_000), Gen.int(in: 1...600)
        ) { seed, trees, depth, features, distinct, rows in
            let forest = RandomForest(
                seed: seed, trees: trees, depth: depth, features: features, distinctThresholds: distinct)
            let model = try #require(try? forest.model())
            let input = forest.rows(rows)
            var fast = [Float](repeating: 0, count: rows)
            var plain = [Float](repeating: 1, count: rows)
            let missing = input.withUnsafeBufferPointer { input in
                fast.withUnsafeMutableBufferPointer { AVX2Scorer(model).score(input, into: $0) }
            }
            input.withUnsafeBufferPointer { input in
                plain.withUnsafeMutableBufferPointer { model.scorePlain(input, into: $0) }
            }
            #expect(missing == input.count { $0.isNaN })
            #expect(fast.map(\.bitPattern) == plain.map(\.bitPattern))
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
