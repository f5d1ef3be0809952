import ArgumentParser
import CSV
import Foundation
import PrescoreCore
import PrescoreJobs

struct ModelPredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Score the rows of a CSV file with a model.",
        discussion: """
            FILE is an XGBoost JSON model (save_model("model.json")) or a YAML file with a model: \
            block as in a job file. The input has a header; its first column is the entity key, the \
            others are features, matched to the model by name (an empty cell is a missing value). \
            The output is CSV with the header key,score, in input order; each score is the shortest \
            decimal that reads back to the same 32-bit float.
            """)

    @Option(name: .customLong("model"), help: ArgumentHelp("The model.", valueName: "file"))
    var model: String

    @Option(name: .customLong("input"), help: ArgumentHelp("The rows to score (CSV).", valueName: "rows.csv"))
    var input: String

    @Option(
        name: .customLong("output"),
        help: ArgumentHelp(
            "Where to write scores; standard output if omitted.",
            valueName: "out.csv"))
    var output: String?

    /// Rows read, scored and written at a time: bounds memory for files of any length.
    static let chunkRows = 65_536

    func run() throws {
        let scorer = try ModelLoader.scorer(file: model)
        let reader = try CSVFeatureReader(file: input, scorer: scorer)
        // Scores go to a temporary file first, so a failure halfway never leaves a partial output
        // and nothing but a regular file is ever replaced.
        let staged = try output.map { try StagedOutputFile(destination: $0) }
        guard let stream = OutputStream(toFileAtPath: staged?.stagingPath ?? "/dev/stdout", append: true)
        else {
            staged?.abandon()
            throw CLIError(.fileNotReadable, "cannot write \(output ?? "standard output")")
        }
        let writer: CSVWriter
        do {
            writer = try CSVWriter(stream: stream)
        } catch {
            staged?.abandon()
            throw error
        }
        do {
            try writer.write(row: ["key", "score"])
            var scores = [Float](repeating: 0, count: Self.chunkRows)
            while let chunk = try reader.next(limit: Self.chunkRows) {
                scores.withUnsafeMutableBufferPointer { scores in
                    chunk.features.withUnsafeBufferPointer { features in
                        _ = scorer.scoreInParallel(
                            features, into: UnsafeMutableBufferPointer(rebasing: scores[0..<chunk.keys.count])
                        )
                    }
                }
                for (index, key) in chunk.keys.enumerated() {
                    try writer.write(row: [key, ScoreFormat.shortest(scores[index])])
                }
            }
            // CSVWriter starts each row with a line break but does not end the last one.
            _ = writer.stream.write([UInt8(ascii: "\n")], maxLength: 1)
            writer.stream.close()
        } catch {
            writer.stream.close()
            staged?.abandon()
            throw error
        }
        try staged?.commit()
        // A remote model's failed requests leave NaN rows: the file is kept, the command says why.
        if let failure = scorer.lastFailure {
            throw CLIError(.invalidInput, "some rows could not be scored (NaN in the output): \(failure)")
        }
    }
}
