import Foundation
import PrescoreCore
import Synchronization

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
    /// CPU time of a realtime scoring, for the experiment's exposure; not part of the JSON.
    var cpuMicros = 0

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

    /// The JSON object, written by hand into one string: this is the hot path, and the shape is
    /// fixed (`JSONText` renders each value as `runs --format json` does).
    var json: String {
        var text = "{\"job\":"
        text.reserveCapacity(256)
        text += JSONText.quoted(job)
        text += ",\"key\":" + JSONText.quoted(key)
        text += ",\"score\":" + JSONText.Value.number(score).text
        text += ",\"model_version\":" + JSONText.Value.string(modelVersion).text
        text += ",\"run_id\":" + (runID.map { "\"\($0)\"" } ?? "null")
        text += ",\"computed_at\":\"" + RFC3339.string(computedAt) + "\""
        text += ",\"age_seconds\":" + JSONText.Value.number((ageSeconds * 1000).rounded() / 1000).text
        text += ",\"source\":\"" + source.rawValue + "\",\"stale\":" + (stale ? "true}" : "false}")
        return text
    }
}

/// RFC 3339 in UTC with a `Z`, from Unix seconds (whole seconds, as runs record them, or with
/// milliseconds when there are any). Written digit by digit: `String(format:)` costs more than the
/// rest of an answer.
enum RFC3339 {
    /// The last time formatted: every hit of a run answers the same `computed_at`.
    private static let last = Mutex<(seconds: Double, text: String)>((.nan, ""))

    static func string(_ seconds: Double) -> String {
        if let text = last.withLock({ $0.seconds == seconds ? $0.text : nil }) { return text }
        let text = format(seconds)
        last.withLock { $0 = (seconds, text) }
        return text
    }

    private static func format(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.down))
        var time = time_t(whole)
        var parts = tm()
        gmtime_r(&time, &parts)
        let millis = min(999, Int(((seconds - Double(whole)) * 1000).rounded()))
        var text = ""
        text.reserveCapacity(24)
        func append(_ value: Int, digits: Int) {
            var divisor = 1
            for _ in 1..<digits { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                text.unicodeScalars.append(Unicode.Scalar(UInt8(ascii: "0") + UInt8(rest / divisor % 10)))
                rest %= divisor
                divisor /= 10
            }
        }
        append(Int(parts.tm_year) + 1900, digits: 4)
        text += "-"
        append(Int(parts.tm_mon) + 1, digits: 2)
        text += "-"
        append(Int(parts.tm_mday), digits: 2)
        text += "T"
        append(Int(parts.tm_hour), digits: 2)
        text += ":"
        append(Int(parts.tm_min), digits: 2)
        text += ":"
        append(Int(parts.tm_sec), digits: 2)
        if millis > 0 {
            text += "."
            append(millis, digits: 3)
        }
        return text + "Z"
    }
}
