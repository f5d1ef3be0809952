import Glibc
import PrescoreCore

/// Writing `prescore.exposures` and `prescore.outcomes` (migration 6): rows become COPY text
/// first, so a writer that cannot reach PostgreSQL can keep the very bytes (serve's spool) and
/// send them when it returns.
public enum ExperimentTables {
    static let exposureColumns =
        "prescore.exposures (experiment, job, arm, key, score, source, latency_us, score_age_s, cpu_us, at)"
    static let outcomeColumns = "prescore.outcomes (experiment, key, metric, value, at)"

    public static func copyText(_ exposures: [Exposure]) -> [UInt8] {
        var text = CopyText()
        for exposure in exposures {
            text.append(exposure.experiment)
            text.append(exposure.job)
            text.append(exposure.arm.rawValue)
            text.append(exposure.key)
            text.append(Double(exposure.score))
            text.append(exposure.source)
            text.append(exposure.latencyMicros)
            text.append(exposure.scoreAgeSeconds)
            text.append(exposure.cpuMicros)
            text.append(timestamp(exposure.at))
            text.endRow()
        }
        return text.bytes
    }

    /// Exposure rows made by `copyText`; all or none are written.
    @discardableResult
    public static func writeExposures(_ copyText: [UInt8], on connection: PostgresConnection)
        throws(PostgresError)
        -> Int
    {
        try connection.copyIn(exposureColumns, copyText)
    }

    @discardableResult
    public static func writeOutcomes(_ outcomes: [Outcome], on connection: PostgresConnection)
        throws(PostgresError)
        -> Int
    {
        var text = CopyText()
        for outcome in outcomes {
            text.append(outcome.experiment)
            text.append(outcome.key)
            text.append(outcome.metric)
            text.append(outcome.value)
            text.append(timestamp(outcome.at))
            text.endRow()
        }
        return try connection.copyIn(outcomeColumns, text.bytes)
    }

    /// Records each experiment's settings as `job` runs it (`prescore.experiments`).
    public static func register(_ experiment: Experiment, job: String, on connection: PostgresConnection)
        throws(PostgresError)
    {
        try connection.run(
            """
            INSERT INTO prescore.experiments AS e
                (experiment, job, salt, batch_weight, realtime_weight, value_per_unit, cpu_hour_usd)
            VALUES (\(experiment.name), \(job), \(experiment.salt), \(experiment.weights[.batch] ?? 0),
                    \(experiment.weights[.realtime] ?? 0), \(experiment.valuePerUnit)::float8,
                    \(experiment.cpuHourUSD)::float8)
            ON CONFLICT (experiment) DO UPDATE SET job = excluded.job, salt = excluded.salt,
                batch_weight = excluded.batch_weight, realtime_weight = excluded.realtime_weight,
                value_per_unit = excluded.value_per_unit, cpu_hour_usd = excluded.cpu_hour_usd, updated_at = now()
            """)
    }

    /// Unix seconds as a timestamptz literal in UTC with microseconds (COPY reads it in any
    /// session time zone).
    static func timestamp(_ seconds: Double) -> String {
        let micros = Int64((seconds * 1_000_000).rounded())
        var whole = time_t(micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000)
        let fraction = micros - Int64(whole) * 1_000_000
        var parts = tm()
        gmtime_r(&whole, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let micro = String(fraction)
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))."
            + String(repeating: "0", count: 6 - micro.count) + micro + "+00"
    }
}
