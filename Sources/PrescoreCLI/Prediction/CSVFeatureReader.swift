import CSV
import Foundation
import PrescoreCore

/// Reads `key,feature…` CSV rows in chunks, laid out for a scorer: the first column is the entity
/// key, the others are features bound to the model by header name; an empty cell (or `NaN`) is
/// missing. Memory stays bounded by the chunk size, whatever the file's length.
final class CSVFeatureReader {
    let file: String
    let binding: FeatureBinding
    let featureCount: Int
    private let reader: CSVReader
    private let stream: BoundedInputStream
    private let header: [String]
    /// Lines are counted as records: a quoted cell with a line break inside shifts later numbers.
    private var line = 1

    init(file: String, scorer: any Scorer) throws {
        self.file = file
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue,
            FileManager.default.isReadableFile(atPath: file),
            let stream = BoundedInputStream(fileAtPath: file)
        else {
            throw CLIError(.fileNotReadable, "cannot read input file \(file)")
        }
        self.stream = stream
        do {
            reader = try CSVReader(stream: stream, hasHeaderRow: true)
        } catch CSVError.cannotReadHeaderRow where stream.problem == nil {
            throw CLIError(.invalidInput, "\(file):1: the file is empty; expected a header key,feature,…")
        } catch {
            throw CLIError(
                .invalidInput, "\(file):1: not a CSV file with a header row (\(stream.problem ?? "\(error)"))"
            )
        }
        guard let header = reader.headerRow, header != [""]
        else {
            throw CLIError(.invalidInput, "\(file):1: the file is empty; expected a header key,feature,…")
        }
        do {
            binding = try FeatureBinding(
                columns: Array(header.dropFirst()), featureNames: scorer.featureNames,
                featureCount: scorer.featureCount)
        } catch {
            throw CLIError(.invalidInput, "\(file):1 (header): " + Self.headerProblem(header, scorer: scorer))
        }
        featureCount = scorer.featureCount
        self.header = header
    }

    /// What is wrong with a header, naming the model's features only: a file without a header
    /// has data in its first line, which is never echoed.
    static func headerProblem(_ header: [String], scorer: any Scorer) -> String {
        let expected = "the first line must be a header: key, then the model's features"
        guard let names = scorer.featureNames else {
            return "the model binds by position and takes \(scorer.featureCount) features, but the "
                + "header has \(header.count - 1) columns after the key; \(expected)"
        }
        let present = Set(header.dropFirst())
        let missing = names.filter { !present.contains($0) }
        if !missing.isEmpty {
            let shown =
                missing.prefix(8).joined(separator: ", ")
                + (missing.count > 8 ? " and \(missing.count - 8) more" : "")
            return "missing columns \(shown); \(expected)"
        }
        let extra = header.count - 1 - names.count
        return extra > 0
            ? "\(extra) columns that are not features of the model (or are given twice); \(expected)"
            : "columns given twice; \(expected)"
    }

    private static func isEndOfInput(_ error: any Error) -> Bool {
        if case CSVError.cannotReadFile = error { return true }
        return false
    }

    /// Reads up to `limit` rows: their keys, and their features row-major in the model's order.
    /// Returns nil at the end of the file.
    func next(limit: Int) throws -> (keys: [String], features: [Float])? {
        var keys: [String] = []
        var features: [Float] = []
        keys.reserveCapacity(limit)
        features.reserveCapacity(limit * featureCount)
        while keys.count < limit, let row = reader.next() {
            line += 1
            // A bound of the stream cut this row short: it is not a row.
            if let problem = stream.problem { throw CLIError(.invalidInput, "\(file):\(line): \(problem)") }
            guard row.count == header.count else {
                throw CLIError(
                    .invalidInput, "\(file):\(line): \(row.count) fields, but the header has \(header.count)")
            }
            keys.append(row[0])
            let base = features.count
            features.append(contentsOf: repeatElement(Float.nan, count: featureCount))
            for column in 1..<row.count {
                let cell = row[column].trimmingCharacters(in: .whitespaces)
                guard !cell.isEmpty else { continue }
                let value: Float
                switch DecimalCell.parse(cell) {
                case .missing: continue
                case .value(let parsed): value = parsed
                case .invalid(let why):
                    throw CLIError(
                        .invalidInput, "\(file):\(line), column \(column + 1) (\(header[column])): \(why)")
                }
                features[base + binding.featureIndexForColumn[column - 1]] = value
            }
        }
        // CSV.swift signals the end of the stream as `cannotReadFile` (its byte reader throws at EOF);
        // every other error is malformed input.
        if let problem = stream.problem {
            throw CLIError(.invalidInput, "\(file):\(line + 1): \(problem)")
        }
        if let error = reader.error, !Self.isEndOfInput(error) {
            throw CLIError(.invalidInput, "\(file):\(line + 1): malformed CSV (\(error))")
        }
        return keys.isEmpty ? nil : (keys, features)
    }
}
