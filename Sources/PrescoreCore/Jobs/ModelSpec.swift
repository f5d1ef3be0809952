/// The `model:` block of a job file: which model scores the job's rows.
public enum ModelSpec: Sendable {
    /// An XGBoost JSON model file. `path` is resolved against the job file's folder.
    case xgboostJSON(path: String, version: String)
    /// A linear model written inline.
    case logistic(LogisticModel)

    public var kind: String {
        switch self {
        case .xgboostJSON: "xgboost-json"
        case .logistic: "logistic"
        }
    }

    public var version: String {
        switch self {
        case .xgboostJSON(_, let version): version
        case .logistic(let model): model.version ?? ""
        }
    }
}
