/// The facts of one run as Redis keeps them (`PREFIX:JOB:run:RUN`, and `PREFIX:JOB:current` for
/// the published one): stored once per run, never with each score.
public struct PublishedRun: Sendable, Equatable {
    public var runID: Int64
    /// The run's bucket count: readers need it to find a key's bucket.
    public var buckets: Int
    public var modelVersion: String
    /// When the run's scores were computed (its start), in Unix seconds.
    public var computedAt: Int64
    /// Scores the run wrote (0 until it has finished writing).
    public var rows: Int

    public init(runID: Int64, buckets: Int, modelVersion: String, computedAt: Int64, rows: Int) {
        self.runID = runID
        self.buckets = buckets
        self.modelVersion = modelVersion
        self.computedAt = computedAt
        self.rows = rows
    }

    /// The hash fields, in the order docs/storage.md lists them.
    public var fields: [(String, String)] {
        [
            ("run", String(runID)), ("buckets", String(buckets)), ("model_version", modelVersion),
            ("computed_at", String(computedAt)), ("rows", String(rows)),
        ]
    }

    /// Reads the fields of a hash (`HGETALL`); nil when a field is missing or malformed.
    public init?(fields: [String: String]) {
        guard let run = fields["run"].flatMap({ Int64($0) }),
            let buckets = fields["buckets"].flatMap({ Int($0) }), buckets > 0,
            let modelVersion = fields["model_version"],
            let computedAt = fields["computed_at"].flatMap({ Int64($0) }),
            let rows = fields["rows"].flatMap({ Int($0) })
        else { return nil }
        self.init(
            runID: run, buckets: buckets, modelVersion: modelVersion, computedAt: computedAt, rows: rows)
    }
}
