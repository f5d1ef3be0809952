import Testing

@testable import PrescoreJobs

/// Which kernel a process scores with: AVX2 when the CPU has it, the baseline when asked for or
/// when the CPU lacks AVX2, whatever `PRESCORE_SCORING_KERNEL` says; a value naming no kernel
/// refused.
@Suite struct ScoringKernelTests {
    @Test(
        arguments: [
            (nil, true, ScoringKernel.avx2),
            (nil, false, .baseline),
            ("baseline", true, .baseline),
            ("avx2", true, .avx2),
            ("avx2", false, .baseline),
            ("", true, .avx2),
            ("Baseline", true, nil),
            ("something-else", false, nil),
        ] as [(String?, Bool, ScoringKernel?)])
    func choosesByEnvironmentAndCPU(requested: String?, avx2: Bool, expected: ScoringKernel?) {
        let flags: Set<Substring> = avx2 ? ["fpu", "sse2", "avx", "avx2"] : ["fpu", "sse2", "avx"]
        #expect((try? ScoringKernel(environment: requested, cpuFlags: flags)) == expected)
    }

    /// A value naming no kernel is refused, naming the variable, before anything is scored.
    @Test func refusesAnUnknownKernel() throws {
        let result = try PrescoreProcess.run(
            ["model", "predict", "--model", "jobs/models/fraud_risk.json", "--input", "/dev/null"],
            environment: ["PRESCORE_SCORING_KERNEL": "basline"])
        #expect(result.status != 0)
        #expect(
            result.standardError.contains(
                "PRESCORE_SCORING_KERNEL is \"basline\": use baseline or avx2, or leave it unset"),
            "\(result.standardError)")
    }

    /// Both kernels write the same scores through the real executable.
    @Test func bothKernelsPredictTheSameBytes() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let input = ModelPredictTests.fixtures.appendingPathComponent("fraud_risk_parity_input.csv").path
        let outputs = try ScoringKernel.allCases.map { kernel in
            let output = folder.path("\(kernel).csv")
            let result = try PrescoreProcess.run(
                [
                    "model", "predict", "--model", "jobs/models/fraud_risk.json", "--input", input,
                    "--output",
                    output,
                ], environment: ["PRESCORE_SCORING_KERNEL": kernel.rawValue])
            #expect(result.status == 0, "\(result.standardError)")
            return try String(contentsOfFile: output, encoding: .utf8)
        }
        #expect(outputs[0] == outputs[1])
        #expect(outputs[0].split(separator: "\n").count == 3_587)
    }
}
