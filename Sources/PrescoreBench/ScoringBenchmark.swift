import ArgumentParser
import Foundation
import PrescoreCore
import PrescoreJobs

/// Scoring throughput of a model on rows of the demo data, on one core and on all cores, against
/// XGBoost's own `inplace_predict` on the same rows in the same run.
struct ScoringBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scoring",
        abstract: "Rows/s of the demo model, one core and all cores, versus XGBoost inplace_predict.")

    @Option(help: "The XGBoost JSON model.") var model: String
    @Option(help: "How many rows of demo.users to score.") var rows: Int = 1_000_000
    @Option(help: "A Python with xgboost and numpy.") var python: String
    @Option(help: "psql, to export the rows.") var psql: String = "psql"
    @Option(help: "Where to write the exported rows.") var workDir: String = ".run/bench"
    @Option(name: .customLong("repeat"), help: "Timed repetitions; the best counts.") var repetitions: Int = 3
    @Option(help: "The ratio to XGBoost on all cores to reach: 3 for the demo model, 2 for other shapes.")
    var target: Double = 3

    func run() throws {
        let model = try XGBoostModel(
            json: Data(contentsOf: URL(fileURLWithPath: self.model)), source: self.model)
        guard let names = model.featureNames else {
            throw ValidationError("the benchmark needs a model with feature names")
        }
        try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
        let features = try exportRows(columns: names)
        let rowCount = features.count / names.count
        let matrixPath = "\(workDir)/rows.f32"
        try features.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: matrixPath)) }

        // The kernel `prescore` would use here, and the baseline one beside it (the same when this
        // CPU has no AVX2): the second must score the same bits.
        let kernel = try ScoringKernel.current.get()
        let scorer = kernel.scorer(for: model)
        var scores = [Float](repeating: 0, count: rowCount)
        var baselineScores = [Float](repeating: 1, count: rowCount)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let baselineOneCore = measure(model, features, &baselineScores, threads: 1)
        let oneCore = measure(scorer, features, &scores, threads: 1)
        let allCores = measure(scorer, features, &scores, threads: cores)
        let sameBits = scores.map(\.bitPattern) == baselineScores.map(\.bitPattern)

        let reference = try runXGBoost(matrixPath: matrixPath, featureCount: names.count)
        let theirs = try Data(contentsOf: URL(fileURLWithPath: "\(workDir)/xgboost_predictions.f32"))
            .withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let maxDifference = zip(scores, theirs).map { abs($0 - $1) }.max() ?? .nan

        let ratio = allCores / reference.allCores
        let path = model.quantizedPath
        print(
            """

            scoring benchmark: \(model.treeCount) trees, depth \(model.maxDepth), \
            \(names.count) features, \(rowCount) rows of demo.users, \(cores) cores
              prescore path: \(path.trees) of \(model.treeCount) trees quantized (\(path.binBits)-bit bins), \
            the rest on the float walk
              prescore    1 core:   \(Self.rate(oneCore))    all cores: \(Self.rate(allCores))   \
            (\(kernel.rawValue) kernel; baseline kernel 1 core: \(Self.rate(baselineOneCore)), \
            \(sameBits ? "the same bits" : "DIFFERENT SCORES"))
              xgboost \(reference.version)  1 core:   \(Self.rate(reference.oneCore))    \
            all cores: \(Self.rate(reference.allCores))   (inplace_predict)
              ratio prescore / xgboost:  1 core \(String(format: "%.2f", oneCore / reference.oneCore))x, \
            all cores \(String(format: "%.2f", ratio))x   (target >= \(String(format: "%.1f", target))x: \
            \(ratio >= target ? "met" : "NOT met"))
              ns per row per tree level, 1 core: prescore \(Self.nanoseconds(oneCore, model)), \
            xgboost \(Self.nanoseconds(reference.oneCore, model)); \(Self.floor(model))
              max |prescore - xgboost| over all rows: \(maxDifference)
            """)
        guard sameBits else {
            throw ValidationError("the \(kernel.rawValue) kernel's scores differ from the baseline kernel's")
        }
    }

    /// Time per node visit: one row through one level of one tree.
    private static func nanoseconds(_ rowsPerSecond: Double, _ model: XGBoostModel) -> String {
        String(format: "%.3f", 1e9 / rowsPerSecond / Double(model.levelsPerRow))
    }

    /// The floor the issue names: about one CPU cycle per node visit, at this machine's clock.
    private static func floor(_ model: XGBoostModel) -> String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let megahertz = info.split(separator: "\n").first { $0.hasPrefix("cpu MHz") }
            .flatMap { $0.split(separator: ":").last }
            .flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard let megahertz else { return "floor unknown (no cpu MHz in /proc/cpuinfo)" }
        return String(format: "floor about %.3f (one cycle a visit at %.0f MHz)", 1e3 / megahertz, megahertz)
    }

    private static func rate(_ rowsPerSecond: Double) -> String {
        String(format: "%6.2fM rows/s", rowsPerSecond / 1e6)
    }

    /// Best rows/s over `repetitions` runs.
    private func measure(_ model: any Scorer, _ features: [Float], _ scores: inout [Float], threads: Int)
        -> Double
    {
        let seconds = BenchSupport.bestSeconds(repetitions: repetitions) {
            _ = features.withUnsafeBufferPointer { features in
                scores.withUnsafeMutableBufferPointer { scores in
                    model.scoreInParallel(features, into: scores, threads: threads)
                }
            }
        }
        return Double(scores.count) / seconds
    }

    /// The first `rows` users' features, in the model's order, as a row-major Float matrix.
    private func exportRows(columns: [String]) throws -> [Float] {
        let csvPath = "\(workDir)/rows.csv"
        let query = "SELECT \(columns.joined(separator: ", ")) FROM demo.users ORDER BY user_id LIMIT \(rows)"
        try BenchSupport.run(
            psql, [BenchSupport.databaseURL, "-qc", "\\copy (\(query)) TO '\(csvPath)' CSV"])
        var features: [Float] = []
        features.reserveCapacity(rows * columns.count)
        let text = try String(contentsOfFile: csvPath, encoding: .utf8)
        for line in text.utf8.split(separator: UInt8(ascii: "\n")) {
            for cell in line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                features.append(cell.isEmpty ? .nan : Float(Double(Substring(cell))!))
            }
        }
        guard features.count == rows * columns.count else {
            throw ValidationError(
                "demo.users has fewer than \(rows) users: run prescore demo seed --entities \(rows)")
        }
        return features
    }

    private func runXGBoost(matrixPath: String, featureCount: Int) throws
        -> (version: String, oneCore: Double, allCores: Double)
    {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("xgboost_inplace_predict.py").path
        let output = try BenchSupport.run(
            python,
            [
                script, "--model", model, "--rows", matrixPath, "--features", String(featureCount),
                "--predictions", "\(workDir)/xgboost_predictions.f32", "--repeat", String(repetitions),
            ])
        guard let line = output.split(separator: "\n").last,
            let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let one = json["one_core"] as? Double, let all = json["all_cores"] as? Double
        else { throw ValidationError("unexpected output from the XGBoost script: \(output)") }
        return (json["xgboost"] as? String ?? "?", one, all)
    }
}
