import Foundation
import PrescoreCore
import PrescoreScoringAVX2

/// Which build of the tree-scoring kernel a process uses: PrescoreCore's, which runs on any x86-64
/// (or other) CPU, or PrescoreScoringAVX2's, the same code compiled for AVX2 (see `AVX2Scorer`;
/// scores are bit-identical). Chosen once per process: AVX2 when the CPU has it, unless
/// `PRESCORE_SCORING_KERNEL=baseline` says otherwise (to compare the two, or to rule the AVX2 build
/// out while chasing a problem). Any other value is refused when a model is loaded: a misspelt
/// `baseline` silently scoring with AVX2 would defeat the variable's purpose.
public enum ScoringKernel: String, Sendable, CaseIterable {
    case baseline
    case avx2

    /// The kernel of this process, or why `PRESCORE_SCORING_KERNEL` names none.
    public static let current = Result { () throws(CoreError) in
        try ScoringKernel(
            environment: ProcessInfo.processInfo.environment["PRESCORE_SCORING_KERNEL"], cpuFlags: cpuFlags())
    }

    /// `requested` (the environment variable; unset or empty: the fastest) when this CPU can run
    /// it, else the fastest it can.
    init(environment requested: String?, cpuFlags: Set<Substring>) throws(CoreError) {
        let fastest: ScoringKernel = cpuFlags.contains("avx2") ? .avx2 : .baseline
        guard let requested, !requested.isEmpty else {
            self = fastest
            return
        }
        switch ScoringKernel(rawValue: requested) {
        case .baseline: self = .baseline
        case .avx2: self = fastest
        case nil:
            throw CoreError(
                .invalidInput,
                "PRESCORE_SCORING_KERNEL is \"\(requested)\": use baseline or avx2, or leave it unset")
        }
    }

    /// `model`, scored by this kernel.
    public func scorer(for model: XGBoostModel) -> any Scorer {
        switch self {
        case .baseline: model
        case .avx2: AVX2Scorer(model)
        }
    }

    /// The flags of the first processor in /proc/cpuinfo: Linux lists `avx2` only when the CPU has
    /// it and the kernel saves its registers. None elsewhere (baseline then).
    static func cpuFlags() -> Set<Substring> {
        #if arch(x86_64) && os(Linux)
            guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
                let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
            else { return [] }
            return Set(line.split(separator: " "))
        #else
            return []
        #endif
    }
}
