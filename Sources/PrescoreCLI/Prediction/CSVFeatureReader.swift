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
    private let header: [String]
    /// Lines are counted as records: a quoted cell with a line break inside shifts later numbers.
    private var line = 1

    init(file: String, scorer: any Scorer) throws {
        self.file = file
        guard let stream = InputStream(fileAtPath: file), FileManager.default.isReadableFile(atPath: file)
        else {
            throw CLIError(.fileNotReadable, "cannot read input file \(file)")
        }
        do {
            reader = try CSVReader(stream: stream, hasHeaderRow: true)
        } catch CSVError.cannotReadHeaderRow {
            throw CLIError(.invalidInput, "\(file):1: the file is empty; expected a header key,feature,…")
        } catch {
            throw CLIError(.invalidInput, "\(file):1: not a CSV file with a header row (\(error))")
        }
        guard let header = reader.headerRow, header != [""]
        else {
            throw CLIError(.invalidInput, "\(file):1: the file is empty; expected a header key,feature,…")
        }
        do {
            binding = try FeatureBinding(
                columns: Array(header.dropFirst()), featureNames: scorer.featureNames,
                featureCount: scorer.featureCount)
        } catch let error as CoreError {
            throw CLIError(.invalidInput, "\(file):1 (header): \(error.message)")
        }
        featureCount = scorer.featureCount
        self.header = header
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
                // Parsed as a double first, then rounded once to Float, as XGBoost does with float64 input.
                guard let value = Double(cell) else {
                    throw CLIError(
                        .invalidInput,
                        "\(file):\(line), column \(column + 1) (\(header[column])): not a number")
                }
                features[base + binding.featureIndexForColumn[column - 1]] = Float(value)
            }
        }
        // CSV.swift signals the end of the stream as `cannotReadFile` (its byte reader throws at EOF);
        // every other error is malformed input.
        if let error = reader.error, !Self.isEndOfInput(error) {
            throw CLIError(.invalidInput, "\(file):\(line + 1): malformed CSV (\(error))")
        }
        return keys.isEmpty ? nil : (keys, features)
    }
}
