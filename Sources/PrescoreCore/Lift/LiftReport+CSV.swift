extension LiftReport {
    /// One row per metric, every figure at full precision (for spreadsheets and notebooks).
    public var csv: String {
        let header =
            "metric,kind,control_mean,treatment_mean,abs_lift,abs_ci_low,abs_ci_high,rel_lift,rel_ci_low,"
            + "rel_ci_high,p_value,p_value_holm,cuped_theta,cuped_abs_lift,cuped_abs_ci_low,cuped_abs_ci_high,cuped_p_value"
        let rows = metrics.map { metric -> String in
            let c = metric.comparison
            let figures: [Double?] = [
                c.controlMean, c.treatmentMean, c.absLift, c.absCI[0], c.absCI[1], c.relLift, c.relCI[0],
                c.relCI[1],
                c.pValue, metric.pValueHolm, metric.cuped?.theta, metric.cuped?.absLift,
                metric.cuped?.absCI[0],
                metric.cuped?.absCI[1], metric.cuped?.pValue,
            ]
            return ([metric.name, c.kind.rawValue] + figures.map { $0.map { "\($0)" } ?? "" }).joined(
                separator: ",")
        }
        return ([header] + rows).joined(separator: "\n") + "\n"
    }
}
