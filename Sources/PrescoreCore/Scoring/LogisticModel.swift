import Foundation

/// A linear model written inline in a job file: scorecards, baselines and fallbacks.
///
/// `score = link(intercept + Σ weight × value)`. A missing value contributes 0 (the scorecard
/// convention: no evidence, no points) and is counted, so a run can report how often it happened.
public struct LogisticModel: Scorer {
    public enum Link: String, Sendable, CaseIterable {
        /// The logistic function: a probability from a log-odds sum.
        case logit
        /// The sum itself: a score on the scale the weights were fitted on.
        case identity
    }

    public let intercept: Double
    public let weights: [Double]
    public let link: Link
    public let featureNames: [String]?
    public var version: String?

    public var featureCount: Int { weights.count }

    /// `features` keeps the job file's order, which is the order rows are laid out in.
    public init(intercept: Double, features: [(name: String, weight: Double)], link: Link, version: String?) {
        self.intercept = intercept
        self.weights = features.map(\.weight)
        self.featureNames = features.map(\.name)
        self.link = link
        self.version = version
    }

    @discardableResult
    public func score(
        _ features: UnsafeBufferPointer<Float>, into scores: UnsafeMutableBufferPointer<Float>
    ) -> Int {
        precondition(features.count == scores.count * featureCount, "feature block size mismatch")
        var missing = 0
        weights.withUnsafeBufferPointer { weights in
            var base = 0
            for row in 0..<scores.count {
                var sum = intercept
                for index in 0..<weights.count {
                    let value = features[base + index]
                    if value.isNaN {
                        missing += 1
                    } else {
                        sum += weights[index] * Double(value)
                    }
                }
                scores[row] = Float(link == .logit ? 1 / (1 + exp(-sum)) : sum)
                base += weights.count
            }
        }
        return missing
    }
}
