import Foundation
import PrescoreCore

/// One answer of `GET /v1/scores/{job}/{key}` (and one element of a batch): the JSON fields are a
/// contract, `{"job","key","score","model_version","run_id","computed_at","age_seconds","source","stale"}`.
struct ScoreAnswer: Sendable, Equatable {
    enum Source: String, Sendable, CaseIterable {
        case batch, realtime, `default`
    }

    var job: String
    var key: String
    var score: Float
    var modelVersion: String?
    /// As in `prescore runs --format json`; nil for a realtime or default answer.
    var runID: Int64?
    /// Unix seconds.
    var computedAt: Double
    var ageSeconds: Double
    var source: Source
    var stale: Bool

    /// A score of the published run `run`.
    static func batch(job: JobDefinition, key: String, score: Float, run: PublishedRun, now: Date)
        -> ScoreAnswer
    {
        let age = max(0, now.timeIntervalSince1970 - Double(run.computedAt))
        return ScoreAnswer(
            job: job.name, key: key, score: score, modelVersion: run.modelVersion, runID: run.runID,
            computedAt: Double(run.computedAt), ageSeconds: age, source: .batch,
            stale: job.output.maxAge.map { age > $0.totalSeconds } ?? false)
    }

    /// The JSON object, written by hand: this is the hot path, and the shape is fixed.
    var json: String {
        var text = "{\"job\":" + JSONText.quoted(job) + ",\"key\":" + JSONText.quoted(key)
        text += ",\"score\":" + (score.isFinite ? "\(score)" : "null")  // float32's shortest text
        text += ",\"model_version\":" + (modelVersion.map(JSONText.quoted) ?? "null")
        text += ",\"run_id\":" + (runID.map { "\"\($0)\"" } ?? "null")
        text += ",\"computed_at\":\"" + RFC3339.string(computedAt) + "\""
        text += ",\"age_seconds\":" + JSONText.number((ageSeconds * 1000).rounded() / 1000)
        text += ",\"source\":\"" + source.rawValue + "\",\"stale\":" + (stale ? "true" : "false") + "}"
        return text
    }
}

/// JSON text pieces for the hand-written answers.
enum JSONText {
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A finite number as JSON (the shortest text that reads back the same); a non-finite one as null.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}

/// RFC 3339 in UTC with a `Z`, from Unix seconds (whole seconds, as runs record them, or with
/// milliseconds when there are any).
enum RFC3339 {
    static func string(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.down))
        var time = time_t(whole)
        var parts = tm()
        gmtime_r(&time, &parts)
        let millis = Int(((seconds - Double(whole)) * 1000).rounded())
        let base = String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        return millis > 0 ? base + String(format: ".%03dZ", min(999, millis)) : base + "Z"
    }
}
