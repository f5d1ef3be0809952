import PrescoreCore

/// The lift report as text for a terminal: arms and the sample-ratio check, one row per metric
/// (`*` marks what stays significant after Holm), warnings, and for a served experiment its
/// serving and cost figures.
enum LiftTable {
    static func render(_ report: LiftReport) -> String {
        let number = LiftReport.number
        let interval = LiftReport.interval
        var lines = [
            "arms: "
                + report.arms.map {
                    "\($0.arm) \($0.units) units" + ($0.exposures.map { " (\($0) exposures)" } ?? "")
                }
                .joined(separator: ", ")
                + (report.excludedUnits > 0 ? " (\(report.excludedUnits) units in both arms left out)" : ""),
            "sample ratio: chi2 \(number(report.sampleRatio.chi2)), p \(number(report.sampleRatio.pValue))"
                + (report.sampleRatio.flagged ? "  MISMATCH: the arms do not follow the split" : ""),
            "",
        ]
        let rows = report.metrics.map { metric -> [String] in
            let c = metric.comparison
            return [
                metric.name, c.kind.rawValue, number(c.controlMean), number(c.treatmentMean),
                number(c.absLift),
                interval(c.absCI), number(c.relLift), interval(c.relCI), number(c.pValue),
                number(metric.pValueHolm) + (metric.pValueHolm < 0.05 ? " *" : ""),
                metric.cuped.map { "\(number($0.absLift)) \(interval($0.absCI)) p \(number($0.pValue))" }
                    ?? "",
            ]
        }
        lines.append(
            TextTable.render(
                header: [
                    "metric", "kind", "batch", "realtime", "abs lift", "95% CI", "rel lift", "95% CI", "p",
                    "p (Holm)", "CUPED abs lift",
                ], rows: rows))
        for (metric, needed) in report.underpowered {
            lines.append(
                "warning: \(metric): about \(needed) units an arm are needed to detect a 5% relative lift at 80% power"
            )
        }
        if !report.serving.isEmpty {
            lines.append("")
            lines.append(
                TextTable.render(
                    header: [
                        "arm", "exposures", "p50 ms", "p95 ms", "p99 ms", "batch", "realtime", "default",
                        "age s",
                    ],
                    rows: report.serving.map { arm in
                        [arm.arm, "\(arm.exposures)"]
                            + [arm.latencyMs.p50, arm.latencyMs.p95, arm.latencyMs.p99].map(number)
                            + arm.sourceShares.map { number($0.share) } + [number(arm.meanScoreAgeSeconds)]
                    }))
        }
        if let e = report.economics {
            lines.append("")
            lines.append(
                "cost: batch \(e.batchCPUSecondsPer1000.map(number) ?? "n/a") CPU s / 1,000 predictions, realtime "
                    + "\(number(e.realtimeCPUSecondsPer1000)); \(e.realtimePredictions) realtime predictions cost "
                    + "$\(number(e.incrementalCostUSD)) at $\(number(e.cpuHourUSD)) a CPU hour")
            lines.append(
                "value: \(e.metric) lift × \(e.treatedUnits) treated units × $\(number(e.valuePerUnit)) = "
                    + "$\(number(e.incrementalValueUSD)); ROI \(number(e.roi)) \(interval(e.roiCI))")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
