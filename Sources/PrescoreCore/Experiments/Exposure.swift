/// One score `serve` answered for an entity in an experiment: a row of `prescore.exposures`.
public struct Exposure: Sendable, Equatable {
    public var experiment: String
    public var job: String
    public var arm: Experiment.Arm
    public var key: String
    public var score: Float
    /// `batch`, `realtime` or `default`, as the answer's `source`.
    public var source: String
    public var latencyMicros: Int
    public var scoreAgeSeconds: Double
    /// CPU time of a realtime scoring (0 for a batch or default answer).
    public var cpuMicros: Int
    /// Unix seconds.
    public var at: Double

    public init(
        experiment: String, job: String, arm: Experiment.Arm, key: String, score: Float, source: String,
        latencyMicros: Int, scoreAgeSeconds: Double, cpuMicros: Int, at: Double
    ) {
        self.experiment = experiment
        self.job = job
        self.arm = arm
        self.key = key
        self.score = score
        self.source = source
        self.latencyMicros = latencyMicros
        self.scoreAgeSeconds = scoreAgeSeconds
        self.cpuMicros = cpuMicros
        self.at = at
    }
}

/// One outcome a product reports: a metric's value for an entity at a time (`prescore.outcomes`).
public struct Outcome: Sendable, Equatable {
    public var experiment: String
    public var key: String
    public var metric: String
    public var value: Double
    /// Unix seconds.
    public var at: Double

    public init(experiment: String, key: String, metric: String, value: Double, at: Double) {
        self.experiment = experiment
        self.key = key
        self.metric = metric
        self.value = value
        self.at = at
    }

    /// A metric name: 1 to 63 of a-z, 0-9 and '_', starting with a letter (it becomes a report
    /// column and a CSV header).
    public static func isValidMetric(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count), (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[0])
        else {
            return false
        }
        return bytes.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "_")
        }
    }
}
