import PrescoreCore
import PrescorePostgres

/// How a run reads a job's `source.query`: the query wrapped so that PostgreSQL sends the key and
/// then every feature as `float8` in the model's own order. The run then decodes one fixed binary
/// layout, whatever numeric types the query uses, and needs no per-row mapping.
public struct SourcePlan: Sendable {
    /// `SELECT key, f…::float8 FROM (source) AS source`, for `COPY … TO STDOUT (FORMAT binary)`.
    public let query: String
    let keyKind: SourceColumns.KeyKind
    let featureCount: Int

    /// Checks the source's described columns against the scorer, by the rules of `jobs validate`.
    public init(source: String, columns: [PostgresColumn], scorer: any Scorer) throws(BatchError) {
        let checked = SourceColumns(columns: columns, scorer: scorer)
        guard checked.problems.isEmpty, let keyKind = checked.keyKind, let binding = checked.binding else {
            throw BatchError(
                .sourceMismatch, "source.query: " + checked.problems.map(\.message).joined(separator: "; "))
        }
        // The model's feature `index` comes from column `columnForFeature[index]`.
        var columnForFeature = [Int](repeating: 0, count: scorer.featureCount)
        for (column, feature) in binding.featureIndexForColumn.enumerated() {
            columnForFeature[feature] = column
        }
        var selected = [Self.quoted("key") + (keyKind == .integer ? "::int8" : "::text")]
        for column in columnForFeature.map({ checked.features[$0] }) {
            // Booleans have no direct cast to float8; every other feature kind is numeric.
            selected.append(
                Self.quoted(column.name) + (column.kind == .boolean ? "::int::float8" : "::float8"))
        }
        query = "SELECT \(selected.joined(separator: ", ")) FROM (\(source)) AS prescore_source"
        self.keyKind = keyKind
        featureCount = scorer.featureCount
    }

    /// An SQL identifier, quoted.
    static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
