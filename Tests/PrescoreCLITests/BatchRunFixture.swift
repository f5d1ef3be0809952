import Foundation
import PrescoreCore
import PrescorePostgres
import PrescoreRedis
import PrescoreTestSupport
import Testing

/// A database, a jobs folder and a Redis key prefix of a test's own, with one job whose source the
/// test steers through the `ctl` table: how many rows, and at which row PostgreSQL pauses (and for
/// how long), so that a test can act while a run is halfway.
///
/// The job's score is `x` = key / 1000 (a logistic model with the identity link).
struct BatchRunFixture {
    let databaseURL: String
    let redisURL: String
    let database: PostgresConnection
    let redis: RedisConnection
    let folder: TemporaryFolder
    let job = TestServers.uniqueName("j")
    let prefix = TestServers.uniqueName("t")

    static let source = """
        SELECT g AS key, g::float8 / 1000 AS x,
               CASE WHEN g = (SELECT pause_at FROM ctl)
                    THEN length(pg_sleep((SELECT pause_seconds FROM ctl))::text) ELSE 0 END AS pause
        FROM generate_series(1, (SELECT n FROM ctl)) AS g
        """

    /// Runs `body` with a fresh fixture; `source`, `output` (keys of `output:` beside the prefix)
    /// and `extra` (more job keys) shape the job file.
    static func with(
        source: String = source, schedule: String = "@daily", output: String = "keep_runs: 2",
        extra: String = "", redisURL: String = TestServers.redisURL, _ body: (BatchRunFixture) throws -> Void
    ) throws {
        try TestServers.withTemporaryDatabase { url in
            let folder = try TemporaryFolder()
            defer { folder.remove() }
            let fixture = try BatchRunFixture(
                databaseURL: url, redisURL: redisURL, folder: folder, source: source, schedule: schedule,
                output: output, extra: extra)
            try body(fixture)
        }
    }

    private init(
        databaseURL: String, redisURL: String, folder: TemporaryFolder, source: String, schedule: String,
        output: String, extra: String
    ) throws {
        self.databaseURL = databaseURL
        self.redisURL = redisURL
        self.folder = folder
        database = try PostgresConnection(url: databaseURL)
        redis = try RedisConnection(url: RedisURL(redisURL))
        try database.execute(
            """
            CREATE TABLE ctl (n int, pause_at int, pause_seconds float8, realtime_sleep float8 DEFAULT 0);
            CREATE SEQUENCE realtime_queries;
            INSERT INTO ctl VALUES (1000, 0, 0);
            """)
        let migrate = try PrescoreProcess.run(["migrate", "--database-url", databaseURL])
        #expect(migrate.status == 0, "\(migrate.standardError)")
        try folder.write(
            "\(job).yaml",
            """
            name: \(job)
            schedule: "\(schedule)"
            model: {kind: logistic, version: v7, intercept: 0, link: identity, weights: {x: 1, pause: 0}}
            source:
              query: |
            \(source.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
            output: {prefix: "\(prefix)", \(output)}
            \(extra)
            """)
    }

    var store: ScoreStore { ScoreStore(connection: redis, layout: ScoreLayout(prefix: prefix, job: job)) }

    func arguments(_ command: String, _ more: [String] = []) -> [String] {
        [command] + more + [
            "--jobs-dir", folder.url.path, "--database-url", databaseURL, "--redis-url", redisURL,
        ]
    }

    /// `prescore run JOB` to its end.
    @discardableResult
    func run(_ more: [String] = []) throws -> PrescoreProcess {
        try PrescoreProcess.run(arguments("run", [job] + more))
    }

    func start(_ more: [String] = []) throws -> PrescoreProcess.Running {
        try PrescoreProcess.start(arguments("run", [job] + more))
    }

    /// A `realtime:` block for the fixture's job: one entity of the source (the same scores), each
    /// query sleeping `ctl.realtime_sleep` seconds and counted by the sequence `realtime_queries`;
    /// `more` adds keys (`on_failure`, `breaker`…).
    static func realtime(timeout: String = "300ms", more: String = "") -> String {
        """
        realtime:
          query: >-
            SELECT g AS key, g::float8 / 1000 AS x,
                   (length(pg_sleep((SELECT realtime_sleep FROM ctl))::text) + nextval('realtime_queries')) * 0 AS pause
            FROM generate_series(1, (SELECT n FROM ctl)) AS g WHERE g = $1
          timeout: \(timeout)
        \(more.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        """
    }

    func setRealtimeSleep(_ seconds: Double) throws {
        try database.execute("UPDATE ctl SET realtime_sleep = $1", [String(seconds)])
    }

    func setSource(rows: Int, pauseAt: Int = 0, pauseSeconds: Double = 0) throws {
        try database.execute(
            "UPDATE ctl SET n = $1, pause_at = $2, pause_seconds = $3",
            [String(rows), String(pauseAt), String(pauseSeconds)])
    }

    /// Waits (polling, up to a minute) until the run's source query sits in its pause.
    func waitForPause() throws {
        for _ in 0..<1_200 {
            let sleeping = try database.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'"
            )
            if sleeping.scalar == "1" { return }
            usleep(50_000)
        }
        Issue.record("the run never reached its pause")
    }

    /// The status and error of run `runID` in prescore.job_runs.
    func recorded(_ runID: Int64) throws -> (status: String?, error: String?) {
        let row = try database.execute(
            "SELECT status, error FROM prescore.job_runs WHERE job = $1 AND run_id = $2",
            [job, String(runID)]
        ).rows.first
        return (row?[0] ?? nil, row?[1] ?? nil)
    }

    /// Keys under the fixture's prefix that belong to run `runID` (its facts and score buckets).
    func keys(ofRun runID: Int64) throws -> [String] {
        var found: [String] = []
        for pattern in ["\(prefix):\(job):s:\(runID):*", "\(prefix):\(job):run:\(runID)"] {
            try redis.scan(matching: pattern) { found += $0 }
        }
        return found
    }

    /// The published score of `key`, read as a product service would (through `ScoreStore`).
    func score(_ key: Int) throws -> (score: Float, run: Int64)? {
        try store.score(forKey: String(key)).map { ($0.score, $0.run.runID) }
    }
}
