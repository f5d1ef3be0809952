import PrescoreCore

/// A job ready to run or serve: its definition, the model it scores with, and the job file's text
/// and SHA-256 (recorded with each run as `definition_hash`, so a run can be matched to the
/// definition that produced it). The one loaded-job type of the CLI, the scheduler and `serve`.
public struct LoadedJob: Sendable {
    public var definition: JobDefinition
    public var scorer: any Scorer
    public var text: String
    /// Lowercase hex SHA-256 of `text` (UTF-8), as PostgreSQL's `sha256()` gives it.
    public var hash: String

    public init(definition: JobDefinition, scorer: any Scorer, text: String) {
        self.definition = definition
        self.scorer = scorer
        self.text = text
        hash = SHA256.hex(text)
    }

    public var name: String { definition.name }
}
