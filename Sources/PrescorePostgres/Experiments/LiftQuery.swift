import Foundation
import PrescoreCore

/// The lift report of a served experiment, aggregated in PostgreSQL: per-unit values are built
/// and summarised (count, mean, `var_samp`, `covar_samp`) inside the database, and only a few rows
/// per arm come back (README "For analysts" has the definitions). A window covering the whole
/// experiment reads its rollups, one row per unit; any other groups the window's exposures.
public struct LiftQuery: Sendable {
    public var experiment: Experiment
    public var job: String
    /// Empty: every metric with outcomes (except `pre_` covariates), alphabetically.
    public var metrics: [String]
    public var since: Date?
    public var until: Date

    public init(
        experiment: Experiment, job: String, metrics: [String] = [], since: Date? = nil, until: Date = Date()
    ) {
        self.experiment = experiment
        self.job = job
        self.metrics = metrics
        self.since = since
        self.until = until
    }

    /// Exposures of the window.
    var window: PostgresStatement {
        "experiment = \(experiment.name) AND at >= coalesce(\(time: since), '-infinity') AND at < \(time: until)"
    }

    /// Reads the experiment's rollups when the window covers all its exposures, else groups them.
    public func report(on connection: PostgresConnection) throws -> LiftReport {
        try report(from: source(on: connection), on: connection)
    }

    /// `report(on:)` from a chosen source: the bench times both, tests compare them.
    package func report(from source: Source, on connection: PostgresConnection) throws -> LiftReport {
        // A million units hashed in memory rather than spilled; JIT compiles longer than these
        // queries take to interpret (both measured: 33 s → 13 s on the bench's 10M exposures).
        try connection.execute("SET work_mem = '256MB'; SET jit = off")
        defer { _ = try? connection.execute("RESET work_mem; RESET jit") }
        let metrics = self.metrics.isEmpty ? try foundMetrics(on: connection) : self.metrics
        let units = try connection.run(unitsStatement(metrics, from: source))
        var arms: [LiftReport.Arm] = []
        var excluded = 0
        var samples: [String: [[String?]]] = [:]
        for row in units.rows {
            let arm = row[0] ?? ""
            if arm == "both" {
                excluded = Int(row[1] ?? "") ?? 0
                continue
            }
            arms.append(LiftReport.Arm(arm: arm, units: Int(row[1] ?? "") ?? 0, exposures: Int(row[2] ?? "")))
            samples[arm] = stride(from: 3, to: row.count, by: 6).map { Array(row[$0..<$0 + 6]) }
        }
        let metricSamples = metrics.indices.map { index -> LiftReport.MetricSamples in
            func sample(_ arm: String) -> LiftStatistics.Sample {
                let count = arms.first { $0.arm == arm }?.units ?? 0
                guard let figures = samples[arm]?[index] else {
                    return LiftStatistics.Sample(count: 0, mean: .nan, variance: .nan, binary: false)
                }
                let number = { (i: Int) in figures[i].flatMap(Double.init) ?? .nan }
                return LiftStatistics.Sample(
                    count: count, mean: number(0), variance: number(1), binary: figures[2] == "t",
                    covariate: .init(mean: number(3), variance: number(4), covariance: number(5)))
            }
            return LiftReport.MetricSamples(
                name: metrics[index], control: sample(LiftReport.control),
                treatment: sample(LiftReport.treatment))
        }
        var report = try LiftReport(
            arms: arms, excludedUnits: excluded, metrics: metricSamples, split: experiment.split)
        let serving = try servingFigures(from: source, on: connection)
        report.serving = serving.arms
        if let value = experiment.valuePerUnit, let price = experiment.cpuHourUSD,
            let first = report.metrics.first
        {
            report.economics = Economics(
                metric: first, treatedUnits: arms.first { $0.arm == LiftReport.treatment }?.units ?? 0,
                valuePerUnit: value, cpuHourUSD: price,
                batchCPUSecondsPer1000: try batchCPUPer1000(on: connection),
                realtimeCPUSecondsPer1000: serving.realtimeCPUPer1000,
                realtimePredictions: serving.treatedRealtime)
        }
        return report
    }

    func foundMetrics(on connection: PostgresConnection) throws -> [String] {
        try connection.run(
            """
            SELECT DISTINCT metric FROM prescore.outcomes
            WHERE experiment = \(experiment.name) AND metric NOT LIKE 'pre\\_%' ORDER BY 1
            """
        ).rows.compactMap { $0[0] }
    }

    /// Per arm ('both' for units in both arms): units, exposures, then for each metric mean,
    /// variance, all-binary, and its covariate's mean, variance and covariance with it.
    func unitsStatement(_ metrics: [String], from source: Source) -> PostgresStatement {
        var figures: PostgresStatement = ""
        for index in metrics.indices {
            let (y, x) = ("y\(index)", "x\(index)")
            figures = """
                \(figures), avg(\(raw: y)), var_samp(\(raw: y)), bool_and(\(raw: y) IN (0, 1)),
                avg(\(raw: x)), var_samp(\(raw: x)), covar_samp(\(raw: y), \(raw: x))
                """
        }
        let units = source == .rollups ? rolledUpUnits(metrics) : exposedUnits(metrics)
        return """
            WITH \(units)
            SELECT CASE WHEN both_arms THEN 'both' ELSE arm END, count(*), sum(exposures) \(figures)
            FROM units GROUP BY 1
            """
    }

    /// `units` from the window's exposures: one row per unit with its arm, whether it saw both,
    /// its exposures and each metric's value (y) and covariate (x).
    func exposedUnits(_ metrics: [String]) -> PostgresStatement {
        """
        exposed AS (
            SELECT key, CASE WHEN bool_and(arm = 'realtime') THEN 'realtime' ELSE 'batch' END AS arm,
                   bool_or(arm = 'realtime') AND NOT bool_and(arm = 'realtime') AS both_arms,
                   min(at) AS first_at, count(*) AS exposures
            FROM prescore.exposures WHERE \(window) GROUP BY key
        ), units AS (\(summedOutcomes(metrics)))
        """
    }

    /// Per-unit values summed from `prescore.outcomes` for the units of CTE `exposed`, a unit's
    /// metric counting from its first exposure, its covariate whenever.
    func summedOutcomes(_ metrics: [String]) -> PostgresStatement {
        var sums: PostgresStatement = ""
        for (index, metric) in metrics.enumerated() {
            sums = """
                \(sums), coalesce(sum(o.value) FILTER (WHERE o.metric = \(metric) AND o.at >= e.first_at), 0) AS \(raw: "y\(index)"),
                coalesce(sum(o.value) FILTER (WHERE o.metric = \("pre_" + metric)), 0) AS \(raw: "x\(index)")
                """
        }
        return """
            SELECT e.arm, e.both_arms, e.exposures \(sums)
            FROM exposed e LEFT JOIN prescore.outcomes o
              ON o.experiment = \(experiment.name) AND o.key = e.key AND o.at < \(time: until)
            GROUP BY e.key, e.arm, e.both_arms, e.exposures
            """
    }

    /// Latency percentiles from a histogram in buckets of 2% (ln(µs) × 50): within 1% of the
    /// exact percentile, without sorting every exposure.
    func servingFigures(from source: Source, on connection: PostgresConnection) throws -> (
        arms: [ArmServing], realtimeCPUPer1000: Double, treatedRealtime: Int
    ) {
        let rows = try connection.run(servingStatement(from: source)).rows
        var realtimeCount = 0
        var realtimeCPU = 0.0
        var treatedRealtime = 0
        let servings = Experiment.Arm.allCases.compactMap { arm -> ArmServing? in
            let mine = rows.filter { $0[0] == arm.rawValue }
            let count = { (row: [String?]) in Int(row[3] ?? "") ?? 0 }
            let total = mine.reduce(0) { $0 + count($1) }
            guard total > 0 else { return nil }
            var histogram: [Int: Int] = [:]
            for row in mine { histogram[Int(row[2] ?? "") ?? 0, default: 0] += count(row) }
            let sorted = histogram.sorted { $0.key < $1.key }
            func percentile(_ q: Double) -> Double {
                var seen = 0
                for (bucket, n) in sorted {
                    seen += n
                    if Double(seen) >= q * Double(total) { return exp((Double(bucket) + 0.5) / 50) / 1000 }
                }
                return .nan
            }
            let shares = ["batch", "realtime", "default"].map { source in
                (source, Double(mine.filter { $0[1] == source }.reduce(0) { $0 + count($1) }) / Double(total))
            }
            for row in mine where row[1] == "realtime" {
                realtimeCount += count(row)
                realtimeCPU += Double(row[5] ?? "") ?? 0
                if arm == .realtime { treatedRealtime += count(row) }
            }
            let age = mine.reduce(0.0) { $0 + (Double($1[4] ?? "") ?? 0) } / Double(total)
            return ArmServing(
                arm: arm.rawValue, exposures: total,
                latencyMs: (percentile(0.5), percentile(0.95), percentile(0.99)),
                sourceShares: shares, meanScoreAgeSeconds: age)
        }
        let perThousand = realtimeCount > 0 ? realtimeCPU / 1e6 / Double(realtimeCount) * 1000 : 0
        return (servings, perThousand, treatedRealtime)
    }

    /// CPU seconds per 1,000 rows scored by the job's succeeded batch runs in the window (the
    /// latest such run when none started in it).
    func batchCPUPer1000(on connection: PostgresConnection) throws -> Double? {
        let runs: PostgresStatement = """
            FROM prescore.job_runs
            WHERE job = \(job) AND status = 'succeeded' AND cpu_seconds IS NOT NULL AND rows_scored > 0
            """
        let windowed = try connection.run(
            """
            SELECT sum(cpu_seconds) / sum(rows_scored) * 1000 \(runs)
              AND started_at >= coalesce(\(time: since), '-infinity') AND started_at < \(time: until)
            """
        ).scalar
        if let windowed { return Double(windowed) }
        return try connection.run(
            "SELECT cpu_seconds / rows_scored * 1000 \(runs) ORDER BY started_at DESC LIMIT 1"
        ).scalar.flatMap(Double.init)
    }
}
