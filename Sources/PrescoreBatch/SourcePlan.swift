import PrescoreCore
import PrescorePostgres

/// How a run reads a job's `source.query`: the query wrapped so that PostgreSQL sends the key and
/// then every feature as `float8` in the model's own order. The run then decodes one fixed binary
/// layout, whatever numeric types the query uses, and needs no per-row mapping.
struct SourcePlan: Sendable {
    enum KeyKind: Sendable { case integer, text }

    /// `SELECT key, f…::float8 FROM (source) AS source`, for `COPY … TO STDOUT (FORMAT binary)`.
    let query: String
    let keyKind: KeyKind
    let featureCount: Int

    /// Checks the source's described columns against the scorer, as `jobs validate` does.
    init(source: String, columns: [PostgresColumn], scorer: any Scorer) throws(BatchError) {
        let keys = columns.filter { $0.name == "key" }
        guard keys.count == 1 else {
            throw BatchError(.sourceMismatch, "source.query needs exactly one column named key")
        }
        switch keys[0].kind {
        case .integer: keyKind = .integer
        case .text: keyKind = .text
        default:
            throw BatchError(.sourceMismatch, "source.query: the key column must be an integer or text type")
        }
        let features = columns.filter { $0.name != "key" }
        let binding: FeatureBinding
        do {
            binding = try FeatureBinding(
                columns: features.map(\.name), featureNames: scorer.featureNames,
                featureCount: scorer.featureCount)
        } catch {
            throw BatchError(.sourceMismatch, "source.query: \(error)")
        }
        // The model's feature `index` comes from column `columnForFeature[index]`.
        var columnForFeature = [Int](repeating: 0, count: scorer.featureCount)
        for (column, feature) in binding.featureIndexForColumn.enumerated() {
            columnForFeature[feature] = column
        }
        var selected = [Self.quoted("key") + (keyKind == .integer ? "::int8" : "::text")]
        for column in columnForFeature.map({ features[$0] }) {
            switch column.kind {
            case .integer, .floatingPoint, .numeric: selected.append("\(Self.quoted(column.name))::float8")
            case .boolean: selected.append("\(Self.quoted(column.name))::int::float8")
            default:
                throw BatchError(.sourceMismatch, "source.query: feature \(column.name) is not numeric")
            }
        }
        query = "SELECT \(selected.joined(separator: ", ")) FROM (\(source)) AS prescore_source"
        featureCount = scorer.featureCount
    }

    /// An SQL identifier, quoted.
    static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
