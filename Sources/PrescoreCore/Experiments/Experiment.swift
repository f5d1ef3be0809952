/// A job's A/B experiment (`experiment:` in its job file): which entities are served the batch
/// score (control) and which are scored fresh by the realtime path (treatment), and what an
/// outcome is worth, for the lift report's ROI.
///
/// Assignment is a pure function of (salt, key), so every `serve` process, every run and an
/// analyst's notebook agree on an entity's arm without sharing state (README "Experiments"):
///
///     h   = the first 8 bytes of SHA-256(UTF-8 of salt + ":" + key), big-endian unsigned
///     arm = the arm whose range holds h mod W, W the sum of the weights, ranges in the order
///           batch [0, w_batch), realtime [w_batch, W)
///
/// In Python: `int.from_bytes(hashlib.sha256(f"{salt}:{key}".encode()).digest()[:8], "big") % W`.
public struct Experiment: Sendable, Equatable {
    /// Control first: the report compares `realtime` against `batch`.
    public enum Arm: String, Sendable, CaseIterable, Equatable {
        case batch, realtime
    }

    /// Names the experiment in exposures, outcomes and reports; unique across the jobs served.
    public var name: String
    /// Changing the salt reshuffles the entities into new arms (a new experiment).
    public var salt: String
    /// Each arm's weight, in `Arm.allCases` order; their sum is W.
    public var weights: [Arm: Int]
    /// What one unit of the report's first metric is worth, in dollars (nil: no ROI).
    public var valuePerUnit: Double?
    /// The price of one CPU hour, in dollars (nil: no cost or ROI).
    public var cpuHourUSD: Double?

    public init(
        name: String, salt: String, weights: [Arm: Int], valuePerUnit: Double? = nil,
        cpuHourUSD: Double? = nil
    ) {
        self.name = name
        self.salt = salt
        self.weights = weights
        self.valuePerUnit = valuePerUnit
        self.cpuHourUSD = cpuHourUSD
    }

    /// The configured split, control first, as the report's sample-ratio check takes it.
    public var split: [(arm: String, share: Double)] {
        Arm.allCases.map { ($0.rawValue, Double(weights[$0] ?? 0)) }
    }

    /// The arm of the entity `key`: the same in every process and every run.
    public func arm(of key: String) -> Arm {
        let total = Arm.allCases.reduce(0) { $0 + (weights[$1] ?? 0) }
        guard total > 0 else { return .batch }
        let position = Int(Self.hash(salt: salt, key: key) % UInt64(total))
        var end = 0
        for arm in Arm.allCases {
            end += weights[arm] ?? 0
            if position < end { return arm }
        }
        return .batch
    }

    /// The first 8 bytes of SHA-256(salt ":" key), big-endian.
    static func hash(salt: String, key: String) -> UInt64 {
        let words = SHA256.digest(Array(salt.utf8) + [UInt8(ascii: ":")] + Array(key.utf8))
        return UInt64(words[0]) << 32 | UInt64(words[1])
    }
}
