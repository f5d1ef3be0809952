import PrescoreCore

/// An `XGBoostModel` scored by the same kernel built for AVX2. Use it only on a CPU with AVX2
/// (PrescoreJobs' `ScoringKernel` checks): on another one its first vector instruction kills the
/// process (SIGILL).
///
/// Why a second build: with AVX2 the kernel's 32-byte vectors of bins are one register each, and
/// its compares and selects one instruction each instead of pairs of SSE2 instructions: the demo
/// model measured 1.5× faster on one core. Swift has no per-function target attribute, so this
/// module compiles the kernel's files (symbolic links to PrescoreCore's) with `-mavx2`, while
/// PrescoreCore's own build stays baseline x86-64 and runs everywhere. Scores are bit-identical
/// either way: the kernel compares integers and adds the same `Float`s in the same order, and AVX2
/// brings no fused multiply-add.
///
/// Both builds are linked into one executable, so a function both emit under one name (an outlined
/// copy, a specialization of a standard-library generic) is kept once, perhaps the AVX2 one, and
/// may then be reached from baseline code. `scripts/check-avx2-kernel.sh` (run by `make test`)
/// fails when any such function of this module holds an AVX instruction. This type is a class so
/// that it adds no value witnesses (copies of its bytes) of its own to that list.
public final class AVX2Scorer: Scorer {
    public let model: XGBoostModel

    public init(_ model: XGBoostModel) {
        self.model = model
    }

    public var featureNames: [String]? { model.featureNames }
    public var featureCount: Int { model.featureCount }
    public var version: String? { model.version }

    @discardableResult
    public func score(
        _ features: UnsafeBufferPointer<Float>, into scores: UnsafeMutableBufferPointer<Float>
    ) -> Int {
        model.scoreWithKernel(features, into: scores)
    }
}
