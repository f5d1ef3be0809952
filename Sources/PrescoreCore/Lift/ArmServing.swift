/// How one arm of a served experiment was answered, from its exposures: latency percentiles,
/// the share answered by each source, and how old its scores were.
public struct ArmServing: Sendable, Equatable {
    public var arm: String
    public var exposures: Int
    /// Milliseconds at the 50th, 95th and 99th percentile.
    public var latencyMs: (p50: Double, p95: Double, p99: Double)
    /// Share of exposures per `source` (`batch`, `realtime`, `default`), summing to 1.
    public var sourceShares: [(source: String, share: Double)]
    public var meanScoreAgeSeconds: Double

    public init(
        arm: String, exposures: Int, latencyMs: (p50: Double, p95: Double, p99: Double),
        sourceShares: [(source: String, share: Double)], meanScoreAgeSeconds: Double
    ) {
        self.arm = arm
        self.exposures = exposures
        self.latencyMs = latencyMs
        self.sourceShares = sourceShares
        self.meanScoreAgeSeconds = meanScoreAgeSeconds
    }

    public static func == (a: ArmServing, b: ArmServing) -> Bool {
        a.arm == b.arm && a.exposures == b.exposures && a.latencyMs == b.latencyMs
            && a.sourceShares.elementsEqual(b.sourceShares, by: ==)
            && a.meanScoreAgeSeconds == b.meanScoreAgeSeconds
    }
}
