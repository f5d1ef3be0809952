extension LiftReport {
    /// The report as JSON. A contract: `{"control","treatment","arms":[{"arm","units"}…],
    /// "srm":{"chi2","p_value","flagged"},"metrics":[{"metric","kind","control_mean",
    /// "treatment_mean","abs_lift","abs_ci","rel_lift","rel_ci","p_value","p_value_holm","cuped"}…]}`,
    /// with more keys beside them: `excluded_units`, `underpowered`, arms' `exposures`, `serving`
    /// and `economics` (null offline).
    public var json: String {
        typealias V = JSONText.Value
        let arms = self.arms.map { arm -> V in
            var fields: [(String, V)] = [("arm", .string(arm.arm)), ("units", .number(arm.units))]
            if let exposures = arm.exposures { fields.append(("exposures", .number(exposures))) }
            return .object(fields)
        }
        let metrics = self.metrics.map { metric -> V in
            let c = metric.comparison
            let cuped = metric.cuped.map {
                V.object([
                    ("theta", .number($0.theta)), ("abs_lift", .number($0.absLift)),
                    ("abs_ci", .numbers($0.absCI)),
                    ("p_value", .number($0.pValue)),
                ])
            }
            return .object([
                ("metric", .string(metric.name)), ("kind", .string(c.kind.rawValue)),
                ("control_mean", .number(c.controlMean)), ("treatment_mean", .number(c.treatmentMean)),
                ("abs_lift", .number(c.absLift)), ("abs_ci", .numbers(c.absCI)),
                ("rel_lift", .number(c.relLift)),
                ("rel_ci", .numbers(c.relCI)), ("p_value", .number(c.pValue)),
                ("p_value_holm", .number(metric.pValueHolm)), ("cuped", cuped ?? V(text: "null")),
            ])
        }
        let underpowered = self.underpowered.map {
            V.object([("metric", .string($0.metric)), ("units_needed_per_arm", .number($0.unitsNeeded))])
        }
        return JSONText.object([
            ("control", .string(Self.control)), ("treatment", .string(Self.treatment)),
            ("arms", .array(arms)),
            ("excluded_units", .number(excludedUnits)),
            (
                "srm",
                .object([
                    ("chi2", .number(sampleRatio.chi2)), ("p_value", .number(sampleRatio.pValue)),
                    ("flagged", .bool(sampleRatio.flagged)),
                ])
            ),
            ("metrics", .array(metrics)), ("underpowered", .array(underpowered)),
            ("serving", .array(serving.map(\.jsonValue))),
            ("economics", economics?.jsonValue ?? V(text: "null")),
        ])
    }
}

extension ArmServing {
    var jsonValue: JSONText.Value {
        .object([
            ("arm", .string(arm)), ("exposures", .number(exposures)),
            (
                "latency_ms",
                .object([
                    ("p50", .number(latencyMs.p50)), ("p95", .number(latencyMs.p95)),
                    ("p99", .number(latencyMs.p99)),
                ])
            ),
            ("sources", .object(sourceShares.map { ($0.source, .number($0.share)) })),
            ("mean_score_age_s", .number(meanScoreAgeSeconds)),
        ])
    }
}

extension Economics {
    var jsonValue: JSONText.Value {
        .object([
            ("metric", .string(metric)), ("cpu_hour_usd", .number(cpuHourUSD)),
            ("value_per_unit", .number(valuePerUnit)),
            ("batch_cpu_seconds_per_1000", .number(batchCPUSecondsPer1000)),
            ("realtime_cpu_seconds_per_1000", .number(realtimeCPUSecondsPer1000)),
            ("realtime_predictions", .number(realtimePredictions)), ("treated_units", .number(treatedUnits)),
            ("incremental_cost_usd", .number(incrementalCostUSD)),
            ("incremental_value_usd", .number(incrementalValueUSD)), ("roi", .number(roi)),
            ("roi_ci", .numbers(roiCI)),
        ])
    }
}
