/// A model that turns rows of features into scores.
///
/// Rows arrive as a row-major block of `Float` (what XGBoost compares against its thresholds), in the
/// order of `featureNames`; a missing value (SQL NULL, an empty CSV cell) is `Float.nan`. A
/// `FeatureBinding` puts a query's or a file's columns into that order once, so scoring itself never
/// looks at names.
public protocol Scorer: Sendable {
    /// The features the model reads, in its own order; `nil` when the model has no names and binds by
    /// position.
    var featureNames: [String]? { get }
    /// How many values one row holds.
    var featureCount: Int { get }
    /// The version the job file gives the model, stored with each run; `nil` when none was given.
    var version: String? { get }

    /// Whether scoring is this machine's CPU work (split across threads by `scoreInParallel`) or
    /// waiting on another server (one call: the scorer keeps its own requests in flight).
    var computesLocally: Bool { get }
    /// Why the last rows this scorer could not score got NaN (a model server's status and
    /// message), for the error a run or a fallback reports; nil for in-process models.
    var lastFailure: String? { get }

    /// Scores `scores.count` rows of `features` (`scores.count × featureCount` values) into `scores`.
    /// Allocates nothing and is safe to call from several threads at once on disjoint buffers.
    /// Returns how many feature values were missing.
    @discardableResult
    func score(_ features: UnsafeBufferPointer<Float>, into scores: UnsafeMutableBufferPointer<Float>)
        -> Int
}

extension Scorer {
    public var lastFailure: String? { nil }

    public var computesLocally: Bool { true }
}
