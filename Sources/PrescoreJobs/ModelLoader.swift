import Foundation
import PrescoreCore

/// Turns a model specification into a ready `Scorer`, reading model files from disk.
public enum ModelLoader {
    /// The scorer for a job's `model:` block. A missing or invalid model file is reported at the
    /// job file's `model.path` line.
    public static func scorer(for spec: ModelSpec, at location: SourceLocation) throws(CoreError)
        -> any Scorer
    {
        switch spec {
        case .logistic(let model):
            return model
        case .remote(let model):
            do {
                return try RemoteScorer(model: model, environment: ProcessInfo.processInfo.environment)
            } catch {
                throw CoreError(
                    error.code, error.message, at: SourceLocation(file: location.file, field: "model.headers")
                )
            }
        case .xgboostJSON(let path, let version):
            guard let data = FileManager.default.contents(atPath: path) else {
                let why = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
                throw CoreError(.invalidModel, "model file \(path) \(why)", at: location)
            }
            let kernel = try ScoringKernel.current.get()
            do {
                return kernel.scorer(for: try XGBoostModel(json: data, source: path, version: version))
            } catch let error as CoreError {
                throw CoreError(error.code, "model file \(error.description)", at: location)
            } catch {
                throw CoreError(.invalidModel, "model file \(path): \(error)", at: location)
            }
        }
    }

    /// The scorer for `prescore model predict --model FILE`: an XGBoost JSON model, or a YAML file
    /// with a `model:` block as in a job file (a whole job file works too).
    public static func scorer(file: String) throws -> any Scorer {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw JobsError(.modelFileUnreadable, "cannot read model file \(file)")
        }
        let firstByte = data.first { !(Character(UnicodeScalar($0)).isWhitespace) }
        if firstByte == UInt8(ascii: "{") {
            return try ScoringKernel.current.get().scorer(for: XGBoostModel(json: data, source: file))
        }
        let text = String(decoding: data, as: UTF8.self)
        let directory = (file as NSString).deletingLastPathComponent
        let outcome = JobFileParser.parseModelBlock(
            text, file: file, directory: directory.isEmpty ? "." : directory)
        guard let spec = outcome.model else {
            throw JobsError(.invalidModelFile, outcome.problems.map(\.description).joined(separator: "\n"))
        }
        return try scorer(for: spec, at: SourceLocation(file: file, field: "model.path"))
    }
}
