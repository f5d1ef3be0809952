import Foundation
import Testing

@testable import PrescoreCore

/// The lift statistics against reference values computed independently with SciPy
/// (`Fixtures/lift/make_lift_reference.py`, its output committed): every figure to 1e-6.
@Suite struct LiftStatisticsTests {
    struct Reference: Decodable {
        struct Case: Decodable {
            var name: String
            var control: [Double]
            var treatment: [Double]
            var covariate_control: [Double]?
            var covariate_treatment: [Double]?
            var expected: Expected
            var expected_cuped: ExpectedCuped?
        }

        struct Expected: Decodable {
            var kind: String
            var control_mean, treatment_mean, abs_lift, rel_lift, p_value: Double
            var abs_ci, rel_ci: [Double]
        }

        struct ExpectedCuped: Decodable {
            var theta, abs_lift, p_value: Double
            var abs_ci: [Double]
        }

        struct SampleRatio: Decodable {
            var counts: [Int]
            var split: [Double]
            var chi2, p_value: Double
        }

        struct Holm: Decodable {
            var p_values, adjusted: [Double]
        }

        struct Quantile: Decodable { var df, q: Double }
        struct Tail: Decodable { var x, df, p: Double }

        var cases: [Case]
        var srm: [SampleRatio]
        var holm: Holm
        var t_quantiles: [Quantile]
        var chi2_tails: [Tail]
    }

    static let reference: Reference = {
        let url = FixtureFiles.fixture("lift/lift_reference.json")
        return try! JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }()

    func close(_ a: Double, _ b: Double, _ what: String) {
        #expect(abs(a - b) <= 1e-6 * max(1, abs(b)), "\(what): \(a) vs SciPy \(b)")
    }

    @Test func comparisonsMatchSciPy() {
        for item in Self.reference.cases {
            let covariates = item.covariate_control.flatMap { control in
                item.covariate_treatment.map { (control: control, treatment: $0) }
            }
            let (comparison, cuped) = LiftStatistics.compare(
                control: item.control, treatment: item.treatment, covariates: covariates)
            let expected = item.expected
            #expect(comparison.kind.rawValue == expected.kind, "\(item.name)")
            close(comparison.controlMean, expected.control_mean, "\(item.name) control mean")
            close(comparison.treatmentMean, expected.treatment_mean, "\(item.name) treatment mean")
            close(comparison.absLift, expected.abs_lift, "\(item.name) abs_lift")
            close(comparison.relLift, expected.rel_lift, "\(item.name) rel_lift")
            close(comparison.pValue, expected.p_value, "\(item.name) p")
            for side in 0..<2 {
                close(comparison.absCI[side], expected.abs_ci[side], "\(item.name) abs_ci")
                close(comparison.relCI[side], expected.rel_ci[side], "\(item.name) rel_ci")
            }
            if let expectedCuped = item.expected_cuped {
                let cuped = try! #require(cuped)
                close(cuped.theta, expectedCuped.theta, "\(item.name) theta")
                close(cuped.absLift, expectedCuped.abs_lift, "\(item.name) cuped abs_lift")
                close(cuped.pValue, expectedCuped.p_value, "\(item.name) cuped p")
                for side in 0..<2 {
                    close(cuped.absCI[side], expectedCuped.abs_ci[side], "\(item.name) cuped ci")
                }
                #expect(
                    cuped.absCI[1] - cuped.absCI[0] < comparison.absCI[1] - comparison.absCI[0],
                    "CUPED narrows")
            } else {
                #expect(cuped == nil)
            }
        }
    }

    @Test func sampleRatioMismatchMatchesSciPyAndFlagsBelowOnePerMille() {
        for item in Self.reference.srm {
            let result = LiftStatistics.sampleRatio(counts: item.counts, split: item.split)
            close(result.chi2, item.chi2, "chi2")
            close(result.pValue, item.p_value, "srm p")
            #expect(result.flagged == (item.p_value < 0.001))
        }
        #expect(
            Self.reference.srm.map { $0.p_value < 0.001 } == [false, true], "one fine split, one mismatch")
    }

    @Test func holmAdjustsInOrder() {
        let holm = LiftStatistics.holm(Self.reference.holm.p_values)
        for (value, expected) in zip(holm, Self.reference.holm.adjusted) { close(value, expected, "holm") }
    }

    @Test func distributionTailsAndQuantilesMatchSciPy() {
        for item in Self.reference.t_quantiles {
            close(Distributions.studentQuantile(0.975, df: item.df), item.q, "t(0.975, \(item.df))")
        }
        for item in Self.reference.chi2_tails {
            close(
                Distributions.chiSquareUpperTail(item.x, df: item.df), item.p,
                "chi2 tail \(item.x) \(item.df)")
        }
        close(Distributions.normalTwoSided(Distributions.z975), 0.05, "z(0.975)")
    }

    @Test func aSmallExperimentIsReportedAsUnderpowered() {
        let control = (0..<50).map { Double($0 % 7) }
        let sample = LiftStatistics.Sample(control)
        let needed = LiftStatistics.unitsNeededPerArm(control: sample, treatment: sample)
        #expect(needed > 50)
    }
}
