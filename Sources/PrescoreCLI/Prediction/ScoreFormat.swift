/// How scores are written as text.
enum ScoreFormat {
    /// The shortest decimal that reads back to the same 32-bit float (Swift's `Float` description
    /// is exactly that), e.g. `0.0123` or `1e-05`. NaN is written as `NaN`.
    static func shortest(_ score: Float) -> String {
        score.isNaN ? "NaN" : score.description
    }
}
