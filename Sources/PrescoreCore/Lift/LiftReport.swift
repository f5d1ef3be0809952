/// A lift report from per-unit values: arms and their unit counts, the sample-ratio check, and
/// each metric's comparison of treatment (`realtime`) against control (`batch`), with CUPED when
/// the metric has a `pre_<metric>` covariate and Holm-adjusted p-values over the metrics.
/// No I/O: the offline report reads a CSV, the served one aggregates in SQL; both end here.
public struct LiftReport: Sendable {
    public static let control = "batch"
    public static let treatment = "realtime"

    public struct Unit: Sendable, Equatable {
        public var arm: String
        /// Metric (and `pre_<metric>`) → value; an absent metric counts 0.
        public var values: [String: Double]

        public init(arm: String, values: [String: Double]) {
            self.arm = arm
            self.values = values
        }
    }

    public struct Metric: Sendable, Equatable {
        public var name: String
        public var comparison: LiftStatistics.Comparison
        public var pValueHolm: Double
        public var cuped: LiftStatistics.Cuped?
    }

    public var arms: [(arm: String, units: Int)]
    public var sampleRatio: (chi2: Double, pValue: Double, flagged: Bool)
    public var metrics: [Metric]
    /// Units a unit-level comparison needs per arm for 5% relative lift at 80% power, when more
    /// than the smaller arm has.
    public var underpowered: [(metric: String, unitsNeeded: Int)]

    /// `split`: each arm's configured share (any scale), control first.
    public init(units: [Unit], metrics names: [String], split: [(arm: String, share: Double)])
        throws(CoreError)
    {
        guard split.contains(where: { $0.arm == Self.control }),
            split.contains(where: { $0.arm == Self.treatment })
        else {
            throw CoreError(
                .invalidInput, "the split must name the arms \(Self.control) and \(Self.treatment)")
        }
        let byArm = Dictionary(grouping: units, by: \.arm)
        arms = split.map { ($0.arm, byArm[$0.arm]?.count ?? 0) }
        let counts = arms.map(\.units)
        guard (byArm[Self.control]?.count ?? 0) > 1, (byArm[Self.treatment]?.count ?? 0) > 1 else {
            throw CoreError(
                .invalidInput, "each of \(Self.control) and \(Self.treatment) needs at least 2 units")
        }
        sampleRatio = LiftStatistics.sampleRatio(counts: counts, split: split.map(\.share))
        let control = byArm[Self.control]!
        let treatment = byArm[Self.treatment]!
        var metrics: [Metric] = []
        var underpowered: [(String, Int)] = []
        for name in names {
            func values(_ units: [Unit], _ key: String) -> [Double] { units.map { $0.values[key] ?? 0 } }
            let covariate = "pre_" + name
            let hasCovariate = units.contains { $0.values[covariate] != nil }
            let (comparison, cuped) = LiftStatistics.compare(
                control: values(control, name), treatment: values(treatment, name),
                covariates: hasCovariate ? (values(control, covariate), values(treatment, covariate)) : nil)
            metrics.append(
                Metric(name: name, comparison: comparison, pValueHolm: comparison.pValue, cuped: cuped))
            let needed = LiftStatistics.unitsNeededPerArm(
                control: values(control, name), treatment: values(treatment, name))
            if needed.isFinite, needed > Double(min(control.count, treatment.count)) {
                underpowered.append((name, Int(needed.rounded(.up))))
            }
        }
        for (index, adjusted) in LiftStatistics.holm(metrics.map(\.comparison.pValue)).enumerated() {
            metrics[index].pValueHolm = adjusted
        }
        self.metrics = metrics
        self.underpowered = underpowered
    }

    /// The report as JSON (a contract): `{"control","treatment","arms":[{"arm","units"}…],
    /// "srm":{"chi2","p_value","flagged"},"metrics":[{"metric","kind","control_mean",
    /// "treatment_mean","abs_lift","abs_ci","rel_lift","rel_ci","p_value","p_value_holm","cuped"}…]}`.
    public var json: String {
        func interval(_ values: [Double]) -> JSONText.Value {
            JSONText.Value(
                text: "[" + values.map { JSONText.Value.number($0).text }.joined(separator: ",") + "]")
        }
        let arms = self.arms.map {
            JSONText.object([("arm", .string($0.arm)), ("units", .number($0.units))])
        }
        let metrics = self.metrics.map { metric -> String in
            let c = metric.comparison
            let cuped = metric.cuped.map {
                JSONText.object([
                    ("theta", .number($0.theta)), ("abs_lift", .number($0.absLift)),
                    ("abs_ci", interval($0.absCI)),
                    ("p_value", .number($0.pValue)),
                ])
            }
            return JSONText.object([
                ("metric", .string(metric.name)), ("kind", .string(c.kind.rawValue)),
                ("control_mean", .number(c.controlMean)), ("treatment_mean", .number(c.treatmentMean)),
                ("abs_lift", .number(c.absLift)), ("abs_ci", interval(c.absCI)),
                ("rel_lift", .number(c.relLift)),
                ("rel_ci", interval(c.relCI)), ("p_value", .number(c.pValue)),
                ("p_value_holm", .number(metric.pValueHolm)),
                ("cuped", JSONText.Value(text: cuped ?? "null")),
            ])
        }
        return JSONText.object([
            ("control", .string(Self.control)), ("treatment", .string(Self.treatment)),
            ("arms", JSONText.Value(text: "[" + arms.joined(separator: ",") + "]")),
            (
                "srm",
                JSONText.Value(
                    text: JSONText.object([
                        ("chi2", .number(sampleRatio.chi2)), ("p_value", .number(sampleRatio.pValue)),
                        ("flagged", .bool(sampleRatio.flagged)),
                    ]))
            ),
            ("metrics", JSONText.Value(text: "[" + metrics.joined(separator: ",") + "]")),
        ])
    }
}
