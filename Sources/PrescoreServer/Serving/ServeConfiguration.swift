import PrescoreRedis

/// How `prescore serve` runs; the CLI fills it from flags and the environment.
public struct ServeConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var databaseURL: String
    public var redisURL: RedisURL
    /// Redis connections of the read path, each pipelining every request sent to it (and
    /// flushing the requests of one loop turn together: fewer connections, fewer system calls).
    public var redisConnections = 2
    /// PostgreSQL connections for realtime fallbacks, shared by every job.
    public var poolSize = 8
    /// How long a cached pointer is trusted without a publish message: the safety net.
    public var pointerTTL: Duration = .seconds(5)
    /// Request bodies beyond this are refused with 413.
    public var maxBodyBytes = 1 << 20
    /// Keys a batch request may ask for; more is a 413.
    public var maxBatchKeys = 1_000
    /// A connection with no request for this long is closed.
    public var idleTimeout: Duration = .seconds(30)
    /// The longest a request body may take to arrive (a client trickling bytes is cut off).
    public var bodyTimeout: Duration = .seconds(5)

    /// The folder where exposures wait while PostgreSQL is away (one per process), and its bound.
    public var exposureSpool = "prescore-spool"
    public var exposureSpoolBytes = 1 << 30
    /// How often buffered exposures are written.
    public var exposureFlushInterval: Duration = .milliseconds(500)
    /// The bearer token `POST /v1/outcomes` requires (`PRESCORE_API_TOKEN`); nil: outcomes are
    /// refused.
    public var apiToken: String?
    /// Outcomes one request may post; more is a 413.
    public var maxOutcomes = 10_000

    public init(databaseURL: String, redisURL: RedisURL) {
        self.databaseURL = databaseURL
        self.redisURL = redisURL
    }
}
