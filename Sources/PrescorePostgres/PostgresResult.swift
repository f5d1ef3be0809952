/// A fully read result in text format: small results (catalog look-ups, run history). Large reads
/// stream instead and never build one of these.
public struct PostgresResult: Sendable {
    public var columns: [String]
    public var rows: [[String?]]
    /// Rows inserted, updated or deleted, for commands that report it.
    public var affectedRows: Int

    /// The first column of the first row, the usual shape of a scalar query.
    public var scalar: String? { rows.first?.first ?? nil }
}
