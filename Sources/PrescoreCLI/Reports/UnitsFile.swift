import CSV
import Foundation
import PrescoreCore

/// An exported per-unit CSV for the offline lift report: `unit,arm`, then metric columns; a column
/// `pre_<metric>` is the CUPED covariate of `<metric>`, not a metric. A unit listed in more than
/// one arm is counted and left out, as the served report does.
struct UnitsFile {
    var units: [LiftReport.Unit] = []
    var metrics: [String] = []
    /// Units that appeared in more than one arm.
    var excluded = 0

    init(path: String) throws {
        guard let stream = BoundedInputStream(fileAtPath: path),
            FileManager.default.isReadableFile(atPath: path)
        else { throw CLIError(.fileNotReadable, "cannot read units file \(path)") }
        let reader: CSVReader
        do {
            reader = try CSVReader(stream: stream, hasHeaderRow: true)
        } catch {
            throw CLIError(.invalidInput, "\(path):1: not a CSV file with a header row unit,arm,…")
        }
        guard let header = reader.headerRow, header.count >= 3, header[0] == "unit", header[1] == "arm" else {
            throw CLIError(
                .invalidInput, "\(path):1: the header must start with unit,arm and name at least one metric")
        }
        let columns = Array(header.dropFirst(2))
        metrics = columns.filter { !$0.hasPrefix("pre_") }
        var seen: [String: (arm: String, index: Int?)] = [:]
        var line = 1
        while let row = reader.next() {
            line += 1
            guard row.count == header.count else {
                throw CLIError(
                    .invalidInput, "\(path):\(line): \(row.count) cells, the header has \(header.count)")
            }
            var values: [String: Double] = [:]
            for (offset, column) in columns.enumerated() where !row[offset + 2].isEmpty {
                let cell = row[offset + 2]
                guard DecimalCell.isDecimal(Substring(cell).utf8), let value = Double(cell), value.isFinite
                else {
                    throw CLIError(.invalidInput, "\(path):\(line): column \(column) is not a decimal number")
                }
                values[column] = value
            }
            let (unit, arm) = (row[0], row[1])
            if let earlier = seen[unit] {
                if earlier.arm != arm, let index = earlier.index {  // in both arms: out, counted once
                    units[index].arm = ""
                    seen[unit] = (earlier.arm, nil)
                    excluded += 1
                }
                continue
            }
            seen[unit] = (arm, units.count)
            units.append(LiftReport.Unit(arm: arm, values: values))
        }
        if let problem = stream.problem { throw CLIError(.invalidInput, "\(path):\(line): \(problem)") }
        units.removeAll { $0.arm.isEmpty }
    }
}
