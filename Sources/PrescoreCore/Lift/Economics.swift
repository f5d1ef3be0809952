/// What realtime scoring cost and what its lift earned (README "For analysts"):
///
/// - CPU seconds per 1,000 predictions: the batch run's from `prescore.job_runs` (`cpu_seconds` /
///   `rows_scored`), realtime's from the CPU time `serve` measured around each realtime scoring;
/// - incremental cost = realtime predictions in the treatment arm × realtime CPU seconds per
///   prediction × `cpu_hour_usd` / 3600 (the batch run scores every entity either way, so the
///   realtime work is the extra);
/// - incremental value = abs_lift of the report's first metric × treated units × `value_per_unit`;
/// - ROI = (value − cost) / cost, its interval the same with abs_ci's ends in place of abs_lift.
public struct Economics: Sendable, Equatable {
    public var metric: String
    public var cpuHourUSD: Double
    public var valuePerUnit: Double
    public var batchCPUSecondsPer1000: Double?
    public var realtimeCPUSecondsPer1000: Double
    public var realtimePredictions: Int
    public var treatedUnits: Int
    public var incrementalCostUSD: Double
    public var incrementalValueUSD: Double
    public var roi: Double
    public var roiCI: [Double]

    public init(
        metric: LiftReport.Metric, treatedUnits: Int, valuePerUnit: Double, cpuHourUSD: Double,
        batchCPUSecondsPer1000: Double?, realtimeCPUSecondsPer1000: Double, realtimePredictions: Int
    ) {
        self.metric = metric.name
        self.cpuHourUSD = cpuHourUSD
        self.valuePerUnit = valuePerUnit
        self.batchCPUSecondsPer1000 = batchCPUSecondsPer1000
        self.realtimeCPUSecondsPer1000 = realtimeCPUSecondsPer1000
        self.realtimePredictions = realtimePredictions
        self.treatedUnits = treatedUnits
        let cost = Double(realtimePredictions) * realtimeCPUSecondsPer1000 / 1000 * cpuHourUSD / 3600
        let value = { (lift: Double) in lift * Double(treatedUnits) * valuePerUnit }
        incrementalCostUSD = cost
        incrementalValueUSD = value(metric.comparison.absLift)
        let roi = { (lift: Double) in cost > 0 ? (value(lift) - cost) / cost : .nan }
        self.roi = roi(metric.comparison.absLift)
        roiCI = metric.comparison.absCI.map(roi)
    }
}
