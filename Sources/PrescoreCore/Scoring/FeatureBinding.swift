/// How a source's columns (a query's, after `key`, or a CSV file's) map onto a model's features.
///
/// Built once when a job or file is loaded, so that a name mismatch is an error at load time and
/// never a wrong score at run time.
public struct FeatureBinding: Sendable, Equatable {
    /// For each source column, the model feature index it fills.
    public let featureIndexForColumn: [Int]
    /// True when the model has no feature names and the columns bind in order.
    public let isPositional: Bool

    /// Binds `columns` to a model with `featureNames` (or, when `nil`, `featureCount` positional
    /// features). Every model feature must be present exactly once and every column must be used.
    public init(columns: [String], featureNames: [String]?, featureCount: Int) throws {
        guard let featureNames else {
            guard columns.count == featureCount else {
                throw CoreError(
                    .featureMismatch,
                    "the model has no feature names, so it binds by position: it takes "
                        + "\(featureCount) features but the source has \(columns.count) columns "
                        + "after the key")
            }
            featureIndexForColumn = Array(0..<featureCount)
            isPositional = true
            return
        }
        var indexByName: [String: Int] = [:]
        for (index, name) in featureNames.enumerated() { indexByName[name] = index }
        var seen = Set<String>()
        var duplicates: [String] = []
        var unused: [String] = []
        var mapping: [Int] = []
        for column in columns {
            if !seen.insert(column).inserted { duplicates.append(column) }
            if let index = indexByName[column] {
                mapping.append(index)
            } else {
                unused.append(column)
            }
        }
        let missing = featureNames.filter { !seen.contains($0) }
        var problems: [String] = []
        if !missing.isEmpty {
            problems.append("the model needs \(Self.list(missing)), which the source lacks")
        }
        if !unused.isEmpty {
            problems.append("the model does not use \(Self.list(unused))")
        }
        if !duplicates.isEmpty {
            problems.append("the source has \(Self.list(duplicates)) more than once")
        }
        guard problems.isEmpty else {
            throw CoreError(.featureMismatch, problems.joined(separator: "; "))
        }
        featureIndexForColumn = mapping
        isPositional = false
    }

    private static func list(_ names: [String]) -> String {
        let shown = names.prefix(8).joined(separator: ", ")
        return names.count > 8 ? "\(shown) and \(names.count - 8) more" : shown
    }
}
