/// The `model:` block of a job file: which model scores the job's rows.
public enum ModelSpec: Sendable {
    /// An XGBoost JSON model file. `path` is resolved against the job file's folder.
    case xgboostJSON(path: String, version: String)
    /// A linear model written inline.
    case logistic(LogisticModel)
    /// A model behind an Open Inference Protocol server.
    case remote(RemoteModel)

    public var kind: String {
        switch self {
        case .xgboostJSON: "xgboost-json"
        case .logistic: "logistic"
        case .remote: "remote"
        }
    }

    public var version: String {
        switch self {
        case .xgboostJSON(_, let version): version
        case .logistic(let model): model.version ?? ""
        case .remote(let model): model.recordedVersion
        }
    }
}
