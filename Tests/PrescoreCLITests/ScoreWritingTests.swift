import Foundation
import PrescoreCore
import PrescoreRedis
import PrescoreTestSupport
import Testing

/// The two ways a run writes its scores (`ScoreWriter`): whole buckets by `RESTORE` at the end, or
/// `HSET` as it goes (a run past its hold limit, or Redis refusing `RESTORE`). Through the real
/// `prescore run`; every way must leave the same fields and values in the layout readers know.
@Suite struct ScoreWritingTests {
    /// Integer keys across every listpack integer width (and the edges between them), plus keys
    /// repeated with another score (the last one must win). Rows of (key, x, o): `o` orders them.
    static let integerKeys = """
        SELECT g::bigint * 7919 - 4000000 AS key, (g % 997)::float8 / 1000 AS x, g AS o
        FROM generate_series(1, 3000) AS g
        UNION ALL
        SELECT v, 0.25, 3000 + n FROM unnest(ARRAY[0, -1, 1, 127, 128, -4096, 4095, -4097, 4096, 32767,
          32768, -32768, -32769, 8388607, 8388608, -8388608, -8388609, 2147483647, 2147483648,
          -2147483648, -2147483649, 9223372036854775807, -9223372036854775808]::bigint[])
          WITH ORDINALITY AS u(v, n)
        UNION ALL
        SELECT g::bigint * 7919 - 4000000, 0.75, 4000 + g FROM generate_series(1, 3000, 7) AS g
        """

    /// Text keys: some read as integers by Redis, some look like integers but are not canonical
    /// (`007`, `-0`, `+5`), long ones (past Redis' 64-byte listpack value limit), UTF-8, repeats.
    static let textKeys = """
        SELECT 'user-' || g AS key, (g % 89)::float8 / 100 AS x, g AS o FROM generate_series(1, 1500) AS g
        UNION ALL SELECT lpad(g::text, 5, '0'), 0.5, 2000 + g FROM generate_series(1, 300) AS g
        UNION ALL SELECT g::text, 0.125, 3000 + g FROM generate_series(-300, 300) AS g
        UNION ALL SELECT k, 0.375, 4000 FROM unnest(ARRAY['-0', '+5', '1e3', ' 7', '-', '18446744073709551616']) AS k
        UNION ALL SELECT repeat('k', 60 + g % 200) || g, 0.625, 5000 + g FROM generate_series(1, 200) AS g
        UNION ALL SELECT 'ключ-' || g, 0.875, 6000 + g FROM generate_series(1, 100) AS g
        UNION ALL SELECT 'user-' || g, 0.99, 7000 + g FROM generate_series(1, 1500, 11) AS g
        """

    static func source(_ rows: String) -> String {
        "SELECT key, x, 0 AS pause FROM (\n\(rows)\n) AS t ORDER BY o"
    }

    /// Run 1 writes by `RESTORE`, run 2 by `HSET` from the start (`--hold-limit 0`): both leave the
    /// same key → score bytes, each key in the bucket readers compute, every key with the score of
    /// its last row. Redis' command counts say which way each run wrote.
    @Test(arguments: [integerKeys, textKeys])
    func bothWaysOfWritingLeaveTheSameScores(rows: String) throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        try BatchRunFixture.with(source: Self.source(rows), redisURL: server.url) { fixture in
            let restored = try run(fixture, [], writesBy: "restore")
            #expect(try run(fixture, ["--hold-limit", "0"], writesBy: "hset") == restored)
            let last = try fixture.database.execute(
                "SELECT DISTINCT ON (key) key::text, x FROM (\(rows)) AS t ORDER BY key, o DESC")
            #expect(last.rows.count > 2_000)
            #expect(last.rows.count == restored.count)
            for row in last.rows {
                let score = restored[Array((row[0] ?? "").utf8)].flatMap(ScoreLayout.decode)
                let x = Double(row[1] ?? "") ?? .nan
                #expect(
                    abs(Double(score ?? .nan) - x) < 1e-6,
                    "key \(row[0] ?? ""): \(String(describing: score)), not \(x)")
            }
        }
    }

    /// A run whose buckets were sized for fewer rows than it holds at most (the planner guesses
    /// 1,000 rows a `generate_series` with a sub-select bound) starts holding; past its limit it
    /// sends what it holds by `HSET` and streams the rest, keys repeated across the switch keeping
    /// their last score: the same scores as the next run's `RESTORE`s.
    @Test func aRunOutgrowingItsHoldLimitSwitchesToHSET() throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let rows = """
            SELECT g AS key, g::float8 / 1000 AS x, g AS o FROM generate_series(1, (SELECT n FROM ctl)) AS g
            UNION ALL SELECT g, 0.5, 100000 + g FROM generate_series(1, (SELECT n FROM ctl), 3) AS g
            """
        try BatchRunFixture.with(source: Self.source(rows), redisURL: server.url) { fixture in
            try fixture.setSource(rows: 3_000)
            let switched = try run(
                fixture, ["--hold-limit", "2500", "--batch-size", "500"], writesBy: "hset")
            #expect(switched.count == 3_000)
            #expect(switched[Array("1".utf8)] == ScoreLayout.encode(0.5))
            #expect(switched[Array("2".utf8)] == ScoreLayout.encode(0.002))
            #expect(try run(fixture, [], writesBy: "restore") == switched)
        }
    }

    /// Runs the fixture's job, checks by Redis' command counts that its scores went by `command`
    /// (`restore` or `hset`) and not the other way, and returns the run's scores.
    func run(_ fixture: BatchRunFixture, _ more: [String], writesBy command: String) throws -> [[UInt8]:
        [UInt8]]
    {
        try fixture.redis.command("CONFIG", "RESETSTAT")
        let result = try fixture.run(more)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(!result.standardError.contains("refused RESTORE"), "\(result.standardError)")
        let stats = try fixture.redis.info("commandstats")
        func calls(_ name: String) -> Int {
            Int(stats["cmdstat_\(name)"]?.split(separator: ",").first?.dropFirst("calls=".count) ?? "") ?? 0
        }
        // A few HSETs write the run's facts whichever way its scores go.
        if command == "restore" {
            #expect(calls("restore") > 0, "no RESTORE reached Redis")
            #expect(calls("hset") < 10, "scores written by HSET too")
        } else {
            #expect(calls("restore") == 0, "scores written by RESTORE")
            #expect(calls("hset") > 10, "no scores written by HSET")
        }
        let run = try #require(try fixture.store.published()?.runID)
        return try scores(fixture, run: run)
    }

    /// A Redis user without `RESTORE` (as `-@dangerous` ACLs leave it): the run reports the refusal
    /// and writes every score by `HSET`.
    @Test func redisRefusingRESTOREGetsEveryScoreByHSET() throws {
        let admin = try RedisConnection(url: RedisURL(TestServers.redisURL))
        let user = TestServers.uniqueName("norestore")
        try admin.command("ACL", "SETUSER", user, "on", ">s3cret", "~*", "&*", "+@all", "-restore")
        defer { _ = try? admin.command("ACL", "DELUSER", user) }
        let server = try RedisURL(TestServers.redisURL)
        let url = "redis://\(user):s3cret@\(server.host):\(server.port)/\(server.database)"
        try BatchRunFixture.with(redisURL: url) { fixture in
            let result = try fixture.run()
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardError.contains("Redis refused RESTORE (NOPERM"), "\(result.standardError)")
            #expect(result.standardOutput.contains("1000 read, 1000 scored, 1000 written, 0 failed"))
            #expect(try scores(fixture, run: 1).count == 1_000)
            for key in [1, 500, 1_000] { #expect(try fixture.score(key)?.score == Float(key) / 1000) }
        }
    }

    /// Redis checking every payload in depth (`sanitize-dump-payload yes`: each element, the
    /// element count, no field twice) takes the run's buckets, repeated keys included.
    @Test func redisSanitizingPayloadsTakesThem() throws {
        let server = try RedisServerProcess(arguments: ["--sanitize-dump-payload", "yes"])
        defer { server.stop() }
        for rows in [Self.integerKeys, Self.textKeys] {
            try BatchRunFixture.with(source: Self.source(rows), redisURL: server.url) { fixture in
                let result = try fixture.run()
                #expect(result.status == 0, "\(result.standardError)")
                #expect(!result.standardError.contains("refused RESTORE"), "\(result.standardError)")
                let sanitized = try fixture.redis.info("stats")["dump_payload_sanitizations"]
                #expect((Int(sanitized ?? "") ?? 0) > 0, "Redis checked the payloads")
            }
        }
    }

    /// Every score of run `run`, key → stored bytes, checking that each sits in its key's bucket.
    func scores(_ fixture: BatchRunFixture, run: Int64) throws -> [[UInt8]: [UInt8]] {
        let facts = try fixture.redis.command("HGET", fixture.store.layout.runKey(run), "buckets")
        let buckets = try #require(facts.string.flatMap { Int($0) })
        var scores: [[UInt8]: [UInt8]] = [:]
        for bucket in 0..<buckets {
            let key = fixture.store.layout.bucketKey(run: run, bucket: bucket)
            guard case .array(let items) = try fixture.redis.command("HGETALL", key) else { continue }
            for index in stride(from: 0, to: items.count - 1, by: 2) {
                guard case .bulk(let field) = items[index], case .bulk(let value) = items[index + 1] else {
                    Issue.record("\(key): not a field and a value")
                    continue
                }
                #expect(ScoreLayout.bucket(ofKey: field, bucketCount: buckets) == bucket)
                #expect(scores.updateValue(value, forKey: field) == nil, "a key in two buckets")
            }
        }
        return scores
    }
}
