/// A lift report: arms and their unit counts, the sample-ratio check, and each metric's
/// comparison of treatment (`realtime`) against control (`batch`), with CUPED when the metric has
/// a `pre_<metric>` covariate and Holm-adjusted p-values over the metrics; for a served experiment
/// also how each arm was served and what realtime scoring cost and earned.
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

    public struct Arm: Sendable, Equatable {
        public var arm: String
        public var units: Int
        /// Exposures recorded (served experiments only).
        public var exposures: Int?

        public init(arm: String, units: Int, exposures: Int? = nil) {
            self.arm = arm
            self.units = units
            self.exposures = exposures
        }
    }

    /// One metric's two arms, as `LiftStatistics` takes them.
    public struct MetricSamples: Sendable {
        public var name: String
        public var control: LiftStatistics.Sample
        public var treatment: LiftStatistics.Sample

        public init(name: String, control: LiftStatistics.Sample, treatment: LiftStatistics.Sample) {
            self.name = name
            self.control = control
            self.treatment = treatment
        }
    }

    public struct Metric: Sendable, Equatable {
        public var name: String
        public var comparison: LiftStatistics.Comparison
        public var pValueHolm: Double
        public var cuped: LiftStatistics.Cuped?
    }

    public var arms: [Arm]
    /// The configured split: each arm's share of units, summing to 1, in `arms` order.
    public var expectedShares: [Double]
    /// Units seen in both arms: counted, left out of every figure.
    public var excludedUnits: Int
    public var sampleRatio: (chi2: Double, pValue: Double, flagged: Bool)
    public var metrics: [Metric]
    /// Units a unit-level comparison needs per arm for 5% relative lift at 80% power, when more
    /// than the smaller arm has.
    public var underpowered: [(metric: String, unitsNeeded: Int)]
    /// How each arm was served (served experiments only).
    public var serving: [ArmServing] = []
    /// Cost and ROI (served experiments with a price only).
    public var economics: Economics?

    /// `arms`: each arm's units, in `split` order; `split`: each arm's configured share (any
    /// scale), control and treatment among them.
    public init(
        arms: [Arm], excludedUnits: Int = 0, metrics samples: [MetricSamples],
        split: [(arm: String, share: Double)]
    ) throws(CoreError) {
        guard split.contains(where: { $0.arm == Self.control }),
            split.contains(where: { $0.arm == Self.treatment })
        else {
            throw CoreError(
                .invalidInput, "the split must name the arms \(Self.control) and \(Self.treatment)")
        }
        let units = { (arm: String) in arms.first { $0.arm == arm }?.units ?? 0 }
        guard units(Self.control) > 1, units(Self.treatment) > 1 else {
            throw CoreError(
                .invalidInput,
                "each of \(Self.control) and \(Self.treatment) needs at least 2 units "
                    + "(\(units(Self.control)) and \(units(Self.treatment)))")
        }
        self.arms = split.map { share in arms.first { $0.arm == share.arm } ?? Arm(arm: share.arm, units: 0) }
        self.excludedUnits = excludedUnits
        let total = split.reduce(0) { $0 + $1.share }
        expectedShares = split.map { $0.share / total }
        sampleRatio = LiftStatistics.sampleRatio(counts: self.arms.map(\.units), split: split.map(\.share))
        var metrics: [Metric] = []
        var underpowered: [(String, Int)] = []
        for sample in samples {
            let (comparison, cuped) = LiftStatistics.compare(
                control: sample.control, treatment: sample.treatment)
            metrics.append(
                Metric(name: sample.name, comparison: comparison, pValueHolm: comparison.pValue, cuped: cuped)
            )
            let needed = LiftStatistics.unitsNeededPerArm(
                control: sample.control, treatment: sample.treatment)
            if needed.isFinite, needed > Double(min(sample.control.count, sample.treatment.count)) {
                underpowered.append((sample.name, Int(needed.rounded(.up))))
            }
        }
        for (index, adjusted) in LiftStatistics.holm(metrics.map(\.comparison.pValue)).enumerated() {
            metrics[index].pValueHolm = adjusted
        }
        self.metrics = metrics
        self.underpowered = underpowered
    }

    /// From per-unit values: each unit's arm and metrics (`pre_<metric>` the covariate).
    public init(
        units: [Unit], metrics names: [String], split: [(arm: String, share: Double)], excludedUnits: Int = 0
    )
        throws(CoreError)
    {
        let byArm = Dictionary(grouping: units, by: \.arm)
        let control = byArm[Self.control] ?? []
        let treatment = byArm[Self.treatment] ?? []
        let samples = names.map { name -> MetricSamples in
            let covariate = "pre_" + name
            let hasCovariate = units.contains { $0.values[covariate] != nil }
            func sample(_ units: [Unit]) -> LiftStatistics.Sample {
                LiftStatistics.Sample(
                    units.map { $0.values[name] ?? 0 },
                    covariate: hasCovariate ? units.map { $0.values[covariate] ?? 0 } : nil)
            }
            return MetricSamples(name: name, control: sample(control), treatment: sample(treatment))
        }
        try self.init(
            arms: split.map { Arm(arm: $0.arm, units: byArm[$0.arm]?.count ?? 0) },
            excludedUnits: excludedUnits,
            metrics: samples, split: split)
    }
}
