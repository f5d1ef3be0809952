import Foundation
import PrescoreCore
import PrescoreScoringAVX2

/// Which build of the tree-scoring kernel a process uses: PrescoreCore's, which runs on any x86-64
/// (or other) CPU, or PrescoreScoringAVX2's, the same code compiled for AVX2 (see `AVX2Scorer`;
/// scores are bit-identical). Chosen once per process: AVX2 when the CPU has it, unless
/// `PRESCORE_SCORING_KERNEL=baseline` says otherwise (to compare the two, or to rule the AVX2 build
/// out while chasing a problem).
public enum ScoringKernel: String, Sendable, CaseIterable {
    case baseline
    case avx2

    /// The kernel of this process.
    public static let current = ScoringKernel(
        environment: ProcessInfo.processInfo.environment["PRESCORE_SCORING_KERNEL"],
        cpuFlags: cpuFlags())

    /// `requested` (the environment variable) when this CPU can run it, else the fastest it can.
    init(environment requested: String?, cpuFlags: Set<Substring>) {
        let avx2 = cpuFlags.contains("avx2")
        switch requested.flatMap(ScoringKernel.init(rawValue:)) {
        case .baseline: self = .baseline
        case .avx2, nil: self = avx2 ? .avx2 : .baseline
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
