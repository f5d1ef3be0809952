import PrescoreCore
import PrescorePostgres

/// A query's described columns checked against a model: one `key` column of an integer or text
/// type, numeric features, and a binding of those features to the model. `jobs validate` reports
/// every problem with its place in the job file; a run refuses to start on any of them. One set of
/// rules for both, so a job that validates is a job that runs.
public struct SourceColumns: Sendable {
    public enum KeyKind: Sendable { case integer, text }

    /// Nil when there is not exactly one `key` column of an integer or text type.
    public let keyKind: KeyKind?
    /// Every column but `key`, in the query's order.
    public let features: [PostgresColumn]
    /// Nil when the features do not bind to the model.
    public let binding: FeatureBinding?
    /// Every problem found, without a location (the caller knows where the query stands);
    /// binding problems have the code `featureMismatch`.
    public let problems: [CoreError]

    public init(columns: [PostgresColumn], scorer: any Scorer) {
        var problems: [CoreError] = []
        let keys = columns.filter { $0.name == "key" }
        var keyKind: KeyKind?
        if keys.count != 1 {
            problems.append(
                CoreError(
                    .invalidJobFile,
                    keys.isEmpty
                        ? "the query has no column named key (the entity key): add e.g. user_id AS key"
                        : "the query has \(keys.count) columns named key"))
        } else if keys[0].kind == .integer {
            keyKind = .integer
        } else if keys[0].kind == .text {
            keyKind = .text
        } else {
            problems.append(CoreError(.invalidJobFile, "the key column must be an integer or text type"))
        }
        let features = columns.filter { $0.name != "key" }
        let nonNumeric = features.filter {
            ![.integer, .floatingPoint, .numeric, .boolean].contains($0.kind)
        }
        if !nonNumeric.isEmpty {
            problems.append(
                CoreError(
                    .invalidJobFile,
                    "features must be numeric (integer, real, double precision, numeric or boolean): "
                        + nonNumeric.map(\.name).joined(separator: ", ") + " is not"))
        }
        var binding: FeatureBinding?
        do {
            binding = try FeatureBinding(
                columns: features.map(\.name), featureNames: scorer.featureNames,
                featureCount: scorer.featureCount)
        } catch let error as CoreError {
            problems.append(CoreError(.featureMismatch, error.message))
        } catch {}
        self.keyKind = keyKind
        self.features = features
        self.binding = binding
        self.problems = problems
    }
}
