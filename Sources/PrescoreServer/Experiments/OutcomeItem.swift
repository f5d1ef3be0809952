import Foundation
import PrescoreCore

/// One element of `POST /v1/outcomes`, checked: a served experiment, a valid key and metric, a
/// finite value, a time (RFC 3339 or Unix seconds; absent: now).
enum OutcomeItem {
    struct Invalid: Error { let message: String }

    static func parse(_ item: Any, experiments: Set<String>, now: Double) -> Result<Outcome, Invalid> {
        guard let object = item as? [String: Any] else {
            return .failure(Invalid(message: "not a JSON object"))
        }
        guard let experiment = object["experiment"] as? String, experiments.contains(experiment) else {
            return .failure(Invalid(message: "experiment must name an experiment served here"))
        }
        guard let key = object["key"] as? String else {
            return .failure(Invalid(message: "key must be a string"))
        }
        if let problem = ScoreKey.problem(key) { return .failure(Invalid(message: "key: \(problem)")) }
        guard let metric = object["metric"] as? String, Outcome.isValidMetric(metric) else {
            return .failure(Invalid(message: "metric must be a name of a-z, 0-9 and '_' (at most 63)"))
        }
        guard let value = JSONNumber.value(object["value"]), value.isFinite else {
            return .failure(Invalid(message: "value must be a finite number"))
        }
        var at = now
        switch object["at"] {
        case nil, is NSNull: break
        case let text as String:
            guard let time = TimeText.parse(text) else {
                return .failure(Invalid(message: "at '\(text)' is not an RFC 3339 time"))
            }
            at = time.timeIntervalSince1970
        case let seconds as NSNumber where seconds.doubleValue.isFinite:
            at = seconds.doubleValue
        default:
            return .failure(Invalid(message: "at must be an RFC 3339 time or Unix seconds"))
        }
        return .success(
            Outcome(experiment: experiment, key: key, metric: metric, value: value, at: at))
    }
}
