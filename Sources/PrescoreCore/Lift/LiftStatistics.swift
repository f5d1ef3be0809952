/// The lift report's statistics, exactly as issue-documented so analysts can reproduce them
/// (README "For analysts"): per arm n, mean ȳ, sample variance s² (n−1); control is `batch`,
/// treatment `realtime`.
///
/// - continuous metric: Welch's t-test (Welch–Satterthwaite df), `abs_ci` = Δ ± t(0.975, df)·se;
/// - binary metric (every value 0 or 1): pooled two-proportion z-test for p, unpooled interval;
/// - `rel_lift` = ȳ_T/ȳ_C − 1 with a delta-method interval;
/// - CUPED with a pre-period covariate: θ = cov(y, x)/var(x) over all units, y′ = y − θ(x − x̄),
///   then the continuous formulas on y′.
/// No I/O: the report aggregates per-unit values and calls these.
public enum LiftStatistics {
    public enum Kind: String, Sendable, Equatable { case binary, continuous }

    public struct Comparison: Sendable, Equatable {
        public var kind: Kind
        public var controlMean: Double
        public var treatmentMean: Double
        public var absLift: Double
        public var absCI: [Double]
        public var relLift: Double
        public var relCI: [Double]
        public var pValue: Double
    }

    public struct Cuped: Sendable, Equatable {
        public var theta: Double
        public var absLift: Double
        public var absCI: [Double]
        public var pValue: Double
    }

    /// One arm's figures for one metric: all the statistics need. The offline report computes
    /// them from per-unit values; the served one has PostgreSQL compute them (`avg`, `var_samp`,
    /// `covar_samp`), so a million units never leave the database.
    public struct Sample: Sendable, Equatable {
        public var count: Int
        public var mean: Double
        /// Sample variance (n − 1).
        public var variance: Double
        /// Every value is 0 or 1.
        public var binary: Bool
        /// The pre-period covariate `pre_<metric>` of the same units, for CUPED.
        public var covariate: Covariate?

        public struct Covariate: Sendable, Equatable {
            public var mean: Double
            public var variance: Double
            /// cov(y, x), n − 1.
            public var covariance: Double

            public init(mean: Double, variance: Double, covariance: Double) {
                self.mean = mean
                self.variance = variance
                self.covariance = covariance
            }
        }

        public init(count: Int, mean: Double, variance: Double, binary: Bool, covariate: Covariate? = nil) {
            self.count = count
            self.mean = mean
            self.variance = variance
            self.binary = binary
            self.covariate = covariate
        }

        /// From per-unit values (two passes), `covariate` unit for unit.
        public init(_ values: [Double], covariate: [Double]? = nil) {
            self.init(
                count: values.count, mean: LiftStatistics.mean(values),
                variance: LiftStatistics.variance(values),
                binary: values.allSatisfy { $0 == 0 || $0 == 1 })
            if let covariate, covariate.count == values.count {
                self.covariate = Covariate(
                    mean: LiftStatistics.mean(covariate), variance: LiftStatistics.variance(covariate),
                    covariance: LiftStatistics.covariance(values, covariate))
            }
        }
    }

    /// One metric's comparison, and CUPED when both arms have the covariate.
    public static func compare(control: Sample, treatment: Sample) -> (Comparison, Cuped?) {
        let binary = control.binary && treatment.binary
        let comparison =
            binary
            ? proportions(Double(control.count), control.mean, Double(treatment.count), treatment.mean)
            : welch(control, treatment)
        guard let xC = control.covariate, let xT = treatment.covariate else { return (comparison, nil) }
        // θ over all units: the arms' co-moments pooled (Chan et al.), so no unit is needed again.
        let (nC, nT) = (Double(control.count), Double(treatment.count))
        let n = nC + nT
        let xMean = (nC * xC.mean + nT * xT.mean) / n
        let between = nC * nT / n
        let m2x =
            xC.variance * (nC - 1) + xT.variance * (nT - 1) + (xC.mean - xT.mean) * (xC.mean - xT.mean)
            * between
        let cxy =
            xC.covariance * (nC - 1) + xT.covariance * (nT - 1)
            + (xC.mean - xT.mean) * (control.mean - treatment.mean) * between
        guard m2x > 0 else { return (comparison, nil) }
        let theta = cxy / m2x
        func adjusted(_ sample: Sample, _ x: Sample.Covariate) -> Sample {
            Sample(
                count: sample.count, mean: sample.mean - theta * (x.mean - xMean),
                variance: sample.variance + theta * theta * x.variance - 2 * theta * x.covariance,
                binary: false)
        }
        let cuped = welch(adjusted(control, xC), adjusted(treatment, xT))
        return (
            comparison, Cuped(theta: theta, absLift: cuped.absLift, absCI: cuped.absCI, pValue: cuped.pValue)
        )
    }

    /// `compare` on per-unit values; `covariates` (control's, treatment's) unit for unit.
    public static func compare(
        control: [Double], treatment: [Double], covariates: (control: [Double], treatment: [Double])? = nil
    ) -> (Comparison, Cuped?) {
        compare(
            control: Sample(control, covariate: covariates?.control),
            treatment: Sample(treatment, covariate: covariates?.treatment))
    }

    static func welch(_ control: Sample, _ treatment: Sample) -> Comparison {
        let (nC, nT) = (Double(control.count), Double(treatment.count))
        let (meanC, meanT) = (control.mean, treatment.mean)
        let (vC, vT) = (control.variance / nC, treatment.variance / nT)
        let se = (vC + vT).squareRoot()
        let df = (vC + vT) * (vC + vT) / (vC * vC / (nC - 1) + vT * vT / (nT - 1))
        let absLift = meanT - meanC
        let p = se > 0 ? Distributions.studentTwoSided(absLift / se, df: df) : (absLift == 0 ? 1 : 0)
        let half = se > 0 ? Distributions.studentQuantile(0.975, df: df) * se : 0
        return Comparison(
            kind: .continuous, controlMean: meanC, treatmentMean: meanT, absLift: absLift,
            absCI: [absLift - half, absLift + half], relLift: meanT / meanC - 1,
            relCI: relativeInterval(meanC, meanT, vC, vT), pValue: p)
    }

    static func proportions(_ nC: Double, _ pC: Double, _ nT: Double, _ pT: Double) -> Comparison {
        let pooled = (pC * nC + pT * nT) / (nC + nT)
        let pooledSE = (pooled * (1 - pooled) * (1 / nC + 1 / nT)).squareRoot()
        let absLift = pT - pC
        let p = pooledSE > 0 ? Distributions.normalTwoSided(absLift / pooledSE) : (absLift == 0 ? 1 : 0)
        let (vC, vT) = (pC * (1 - pC) / nC, pT * (1 - pT) / nT)
        let half = Distributions.z975 * (vC + vT).squareRoot()
        return Comparison(
            kind: .binary, controlMean: pC, treatmentMean: pT, absLift: absLift,
            absCI: [absLift - half, absLift + half], relLift: pT / pC - 1,
            relCI: relativeInterval(pC, pT, vC, vT), pValue: p)
    }

    /// rel_lift ± z(0.975)·√(v_T/ȳ_C² + ȳ_T²·v_C/ȳ_C⁴).
    static func relativeInterval(_ meanC: Double, _ meanT: Double, _ vC: Double, _ vT: Double) -> [Double] {
        let rel = meanT / meanC - 1
        let variance = vT / (meanC * meanC) + meanT * meanT * vC / (meanC * meanC * meanC * meanC)
        let half = Distributions.z975 * variance.squareRoot()
        return [rel - half, rel + half]
    }

    /// Sample-ratio mismatch: chi-square goodness of fit of the arms' unit counts against the
    /// configured split (shares summing to any total), upper tail with arms − 1 df, flagged below
    /// 0.001.
    public static func sampleRatio(counts: [Int], split: [Double]) -> (
        chi2: Double, pValue: Double, flagged: Bool
    ) {
        let total = Double(counts.reduce(0, +))
        let shares = split.reduce(0, +)
        let chi2 = zip(counts, split).reduce(0.0) { sum, pair in
            let expected = total * pair.1 / shares
            let difference = Double(pair.0) - expected
            return sum + difference * difference / expected
        }
        let p = Distributions.chiSquareUpperTail(chi2, df: Double(counts.count - 1))
        return (chi2, p, p < 0.001)
    }

    /// Holm–Bonferroni adjusted p-values, in the order given.
    public static func holm(_ pValues: [Double]) -> [Double] {
        let order = pValues.indices.sorted { pValues[$0] < pValues[$1] }
        var adjusted = [Double](repeating: 0, count: pValues.count)
        var running = 0.0
        for (rank, index) in order.enumerated() {
            running = max(running, min(1, Double(pValues.count - rank) * pValues[index]))
            adjusted[index] = running
        }
        return adjusted
    }

    /// Units each arm needs to detect a 5% relative lift at 80% power (two-sided, α 0.05), from
    /// the observed variances: n = (z(0.975) + z(0.8))² · (s_C² + s_T²) / (0.05 · ȳ_C)².
    public static func unitsNeededPerArm(control: Sample, treatment: Sample) -> Double {
        let delta = 0.05 * control.mean
        let z = Distributions.z975 + Distributions.z80
        return z * z * (control.variance + treatment.variance) / (delta * delta)
    }

    static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

    static func variance(_ values: [Double]) -> Double {
        let m = mean(values)
        return values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)
    }

    static func covariance(_ a: [Double], _ b: [Double]) -> Double {
        let (ma, mb) = (mean(a), mean(b))
        return zip(a, b).reduce(0) { $0 + ($1.0 - ma) * ($1.1 - mb) } / Double(a.count - 1)
    }
}
