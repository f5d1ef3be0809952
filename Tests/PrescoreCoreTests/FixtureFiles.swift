import Foundation

/// Files of the repository that tests read: fixtures beside this file and the committed demo model.
enum FixtureFiles {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let repositoryRoot = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()

    static func fixture(_ name: String) -> URL { testsDirectory.appendingPathComponent("Fixtures/\(name)") }

    static func data(_ url: URL) throws -> Data { try Data(contentsOf: url) }

    /// A simple CSV (no quoting, as the fixtures are written): header and rows of cells.
    static func csv(_ url: URL) throws -> (header: [String], rows: [[String]]) {
        let lines = try String(contentsOf: url, encoding: .utf8).split(whereSeparator: \.isNewline)
        let cells = lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return (cells[0], Array(cells.dropFirst()))
    }

    /// Rows of `key,feature…` as a row-major Float block in file column order (empty = NaN).
    static func featureRows(_ url: URL) throws -> (header: [String], keys: [String], features: [Float]) {
        let (header, rows) = try csv(url)
        var features: [Float] = []
        for row in rows {
            for cell in row.dropFirst() { features.append(cell.isEmpty ? .nan : Float(Double(cell)!)) }
        }
        return (header, rows.map { $0[0] }, features)
    }
}
