import Foundation
import PrescoreTestSupport
import Synchronization
import Testing

/// `prescore serve` as a process on the real PostgreSQL and Redis. The fixture's job scores key k
/// as k / 1000; its `realtime:` query reads the same source, one entity, sleeping as told.
@Suite struct ServeProcessTests {
    @Test func hitsMissesWriteBackAndBadInput() throws {
        try BatchRunFixture.with(extra: BatchRunFixture.realtime()) { fixture in
            #expect(try fixture.run().status == 0)
            let runID = try #require(try fixture.store.published()?.runID)
            try fixture.setSource(rows: 2_000)  // 1001…2000 exist in PostgreSQL only
            let serve = try ServeProcess(fixture)
            defer { _ = serve.stop() }
            #expect(serve.waitReady(), "\(serve.output)")
            let job = fixture.job

            let hit = serve.get("/v1/scores/\(job)/500")
            #expect(hit?.status == 200)
            #expect(hit?.headers["content-type"] == "application/json")
            let answer = ServeProcess.object(hit)
            #expect(answer["score"] as? Double == 0.5)
            #expect(answer["source"] as? String == "batch")
            #expect(answer["run_id"] as? String == String(runID))
            #expect(answer["stale"] as? Bool == false)
            #expect((answer["computed_at"] as? String)?.hasSuffix("Z") == true)
            #expect(
                Set(answer.keys) == [
                    "job", "key", "score", "model_version", "run_id", "computed_at", "age_seconds", "source",
                    "stale",
                ])

            // A miss: scored from PostgreSQL, answered realtime, written back: the next read is a hit.
            let miss = ServeProcess.object(serve.get("/v1/scores/\(job)/1500"))
            #expect(miss["source"] as? String == "realtime")
            #expect(miss["score"] as? Double == 1.5)
            #expect(miss["run_id"] is NSNull)
            #expect(
                poll(seconds: 5) {
                    ServeProcess.object(serve.get("/v1/scores/\(job)/1500"))["source"] as? String == "batch"
                })

            let absent = serve.get("/v1/scores/\(job)/5000")
            #expect(absent?.status == 404)
            #expect(absent?.headers["content-type"] == "application/problem+json")
            #expect(ServeProcess.object(absent)["status"] as? Int == 404)
            #expect(serve.get("/v1/scores/no_such_job/1")?.status == 404)

            // Hostile keys: only ever a hash field or a bound parameter.
            for path in ["%22%27", "..%2F..%2Fetc", "1%20OR%201%3D1", "1%3BDROP%20TABLE%20ctl", "%E2%80%AE"] {
                #expect(serve.get("/v1/scores/\(job)/\(path)")?.status == 404, "\(path)")
            }
            for path in ["%00", "a%0Ab", String(repeating: "k", count: 300), "%zz"] {
                #expect(serve.get("/v1/scores/\(job)/\(path)")?.status == 400, "\(path)")
            }
            #expect(try fixture.database.execute("SELECT n FROM ctl").scalar == "2000", "ctl is intact")

            // Batch: in order, hits and misses and per-key errors.
            let batch = ServeProcess.object(
                serve.post("/v1/scores/\(job)/batch", #"{"keys": ["500", "1600", "x", "", "7"]}"#))
            let results = try #require(batch["results"] as? [[String: Any]])
            #expect(results.map { $0["key"] as? String } == ["500", "1600", "x", "", "7"])
            #expect(results.map { $0["source"] as? String } == ["batch", "realtime", nil, nil, "batch"])
            #expect(results[2]["error"] != nil && results[3]["error"] != nil)
            #expect(serve.post("/v1/scores/\(job)/batch", "{not json")?.status == 400)
            #expect(serve.post("/v1/scores/\(job)/batch", #"{"keys": [1, 2]}"#)?.status == 400)
            let tooMany = "{\"keys\": [" + (0..<1_001).map { "\"\($0)\"" }.joined(separator: ",") + "]}"
            #expect(serve.post("/v1/scores/\(job)/batch", tooMany)?.status == 413)
            let huge = "{\"keys\": [\"" + String(repeating: "k", count: 1_100_000) + "\"]}"
            #expect(serve.post("/v1/scores/\(job)/batch", huge)?.status == 413)

            let metrics = serve.get("/metrics")?.body ?? ""
            for line in [
                "prescore_score_hits_total{job=\"\(job)\"}", "prescore_score_misses_total{job=\"\(job)\"}",
                "prescore_fallback_total{job=\"\(job)\",outcome=\"scored\"} 2",
                "prescore_breaker_state{job=\"\(job)\"} 0",
                "prescore_http_request_duration_seconds_bucket{route=\"score\",source=\"batch\"",
                "prescore_score_age_seconds{job=\"\(job)\"}", "prescore_pg_pool_in_use",
            ] {
                #expect(metrics.contains(line), "\(line)")
            }
            #expect(serve.get("/healthz")?.status == 200)
        }
    }

    /// The fallback's pool is open, the job's statement prepared on each connection, by the time
    /// `/readyz` says ready: opening one on demand took longer than a 50 ms `realtime.timeout`, so
    /// the first misses after every start were answered by `on_failure`.
    @Test func thePoolIsOpenAndPreparedWhenReady() throws {
        try BatchRunFixture.with(extra: BatchRunFixture.realtime()) { fixture in
            #expect(try fixture.run().status == 0)
            try fixture.setSource(rows: 2_000)
            let serve = try ServeProcess(fixture, more: ["--pool-size", "3"])
            defer { _ = serve.stop() }
            #expect(serve.waitReady(), "\(serve.output)")
            func backends() throws -> [String] {
                try fixture.database.execute(
                    """
                    SELECT query FROM pg_stat_activity
                    WHERE datname = current_database() AND application_name = 'prescore serve'
                    """
                ).rows.map { $0[0] ?? "" }
            }
            // A backend's `query` is the last statement it was sent: here, the PREPARE.
            let queries = try backends()
            #expect(queries.count == 3)
            #expect(queries.allSatisfy { $0.contains("WHERE g = $1") }, "\(queries)")
            #expect(try fixture.database.execute("SELECT is_called FROM realtime_queries").scalar == "f")
            #expect(
                ServeProcess.object(serve.get("/v1/scores/\(fixture.job)/1500"))["source"] as? String
                    == "realtime")
            #expect(try backends().count == 3, "the miss used a connection of the pool")
        }
    }

    /// PostgreSQL refusing connections when `serve` starts: hits are served, `/readyz` names
    /// PostgreSQL, the warm-up says once what it could not open; once PostgreSQL is back, `serve`
    /// is ready and a miss is scored (the pool opens on demand), without a restart.
    @Test func postgresDownAtStartThenBack() throws {
        try BatchRunFixture.with(extra: BatchRunFixture.realtime(timeout: "2s")) { fixture in
            #expect(try fixture.run().status == 0)
            try fixture.setSource(rows: 2_000)
            let (proxy, proxied) = try fixture.databaseProxy()
            defer { proxy.stop() }
            proxy.cut()
            let serve = try ServeProcess(fixture, databaseURL: proxied, more: ["--pool-size", "3"])
            defer { _ = serve.stop() }
            #expect(
                poll(seconds: 20) {
                    let ready = serve.get("/readyz")
                    return ready?.status == 503 && ready?.body.contains("PostgreSQL") == true
                }, "\(serve.output)")
            #expect(
                ServeProcess.object(serve.get("/v1/scores/\(fixture.job)/500"))["source"] as? String
                    == "batch")
            #expect(poll(seconds: 10) { serve.output.contains("opened 0 of 3 connections at start-up") })

            proxy.resume()
            #expect(serve.waitReady(), "\(serve.output)")
            #expect(
                ServeProcess.object(serve.get("/v1/scores/\(fixture.job)/1500"))["source"] as? String
                    == "realtime")
        }
    }

    /// A run published while serving is served at once (the publish message), not after the
    /// pointer cache's 5 s safety net.
    @Test func aNewRunIsServedWithoutARestart() throws {
        try BatchRunFixture.with { fixture in
            #expect(try fixture.run().status == 0)
            let serve = try ServeProcess(fixture)
            defer { _ = serve.stop() }
            #expect(serve.waitReady(), "\(serve.output)")
            let first = ServeProcess.object(serve.get("/v1/scores/\(fixture.job)/10"))["run_id"] as? String
            // Also on a connection kept open, where hits are answered on the event loop.
            let kept = try #require(RawHTTPConnection(port: serve.port))
            func keptRunID() -> String? {
                guard kept.send(RawHTTPConnection.get("/v1/scores/\(fixture.job)/10")) else { return nil }
                return ServeProcess.object(kept.response())["run_id"] as? String
            }
            #expect(keptRunID() == first)
            #expect(try fixture.run().status == 0)
            let second = try #require(try fixture.store.published()?.runID)
            #expect(first != String(second))
            #expect(poll(seconds: 2) { keptRunID() == String(second) })
            #expect(
                poll(seconds: 2) {
                    ServeProcess.object(serve.get("/v1/scores/\(fixture.job)/10"))["run_id"] as? String
                        == String(second)
                })
        }
    }

    /// PostgreSQL frozen behind a proxy: misses are answered with the default score at their
    /// deadline, the breaker opens (then misses are answered at once), readiness drops; when
    /// PostgreSQL returns, a trial call after the cool-down closes the breaker again.
    @Test func postgresGoneOpensTheBreakerServesDefaultsAndRecovers() throws {
        let extra = BatchRunFixture.realtime(
            timeout: "200ms",
            more: """
                on_failure: {default_score: -1}
                breaker: {minimum_calls: 4, window: 10, cool_down: 1s, trial_calls: 1}
                """)
        try BatchRunFixture.with(extra: extra) { fixture in
            #expect(try fixture.run().status == 0)
            try fixture.setSource(rows: 2_000)
            let (proxy, proxied) = try fixture.databaseProxy()
            defer { proxy.stop() }
            let serve = try ServeProcess(fixture, databaseURL: proxied)
            defer { _ = serve.stop() }
            #expect(serve.waitReady(), "\(serve.output)")
            #expect(
                ServeProcess.object(serve.get("/v1/scores/\(fixture.job)/1001"))["source"] as? String
                    == "realtime")

            proxy.pause()
            for key in 1_100..<1_110 {
                let answer = ServeProcess.object(serve.get("/v1/scores/\(fixture.job)/\(key)"))
                #expect(answer["source"] as? String == "default", "\(key)")
                #expect(answer["score"] as? Double == -1)
            }
            let metrics = serve.get("/metrics")?.body ?? ""
            #expect(metrics.contains("prescore_breaker_state{job=\"\(fixture.job)\"} 1"), "\(metrics)")
            #expect(
                metrics.contains(
                    "prescore_fallback_total{job=\"\(fixture.job)\",outcome=\"rejected_breaker\"}"))
            #expect(serve.get("/readyz", timeout: 10)?.status == 503)
            #expect(serve.get("/v1/scores/\(fixture.job)/500")?.status == 200, "hits are still served")

            proxy.resume()
            #expect(
                poll(seconds: 15) {
                    ServeProcess.object(serve.get("/v1/scores/\(fixture.job)/1200"))["source"] as? String
                        == "realtime"
                }, "\(serve.output)")
            #expect(
                serve.get("/metrics")?.body.contains("prescore_breaker_state{job=\"\(fixture.job)\"} 0")
                    == true)
            #expect(serve.waitReady())
        }
    }

    /// Redis killed under a running `serve`: 503 and not ready; started again on the same port,
    /// reads recover without restarting `serve`.
    @Test func redisGoneIs503AndRecoversWithoutARestart() throws {
        let redis = try RedisServerProcess()
        try BatchRunFixture.with(redisURL: redis.url) { fixture in
            #expect(try fixture.run().status == 0)
            let serve = try ServeProcess(fixture)
            defer { _ = serve.stop() }
            #expect(serve.waitReady(), "\(serve.output)")
            #expect(serve.get("/v1/scores/\(fixture.job)/7")?.status == 200)
            redis.stop()
            let down = serve.get("/v1/scores/\(fixture.job)/7")
            #expect(down?.status == 503)
            #expect(down?.headers["retry-after"] != nil)
            #expect(serve.get("/readyz")?.status == 503)
            let again = try RedisServerProcess(port: redis.port)
            defer { again.stop() }
            #expect(try fixture.run().status == 0)  // the restarted server is empty: publish again
            #expect(serve.waitReady())
            #expect(
                poll(seconds: 10) { serve.get("/v1/scores/\(fixture.job)/7")?.status == 200 },
                "\(serve.output)")
            #expect(serve.stop() == 0)
        }
    }

    /// SIGTERM while a slow miss is in flight: the answer still arrives, then the process exits 0.
    @Test func sigtermDrainsInFlightRequests() throws {
        try BatchRunFixture.with(extra: BatchRunFixture.realtime(timeout: "5s")) { fixture in
            #expect(try fixture.run().status == 0)
            try fixture.setSource(rows: 2_000)
            let serve = try ServeProcess(fixture)
            #expect(serve.waitReady(), "\(serve.output)")
            try fixture.setRealtimeSleep(1.5)
            let answer = Mutex<RawHTTP.Response?>(nil)
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                answer.withLock { $0 = serve.get("/v1/scores/\(fixture.job)/1999", timeout: 10) }
                done.signal()
            }
            usleep(500_000)
            kill(serve.process.processIdentifier, SIGTERM)
            done.wait()
            #expect(answer.withLock { $0?.status } == 200)
            #expect(ServeProcess.object(answer.withLock { $0 })["source"] as? String == "realtime")
            serve.process.waitUntilExit()
            #expect(serve.process.terminationStatus == 0, "\(serve.output)")
        }
    }

    /// 64 misses stuck in a slow PostgreSQL do not hold up `/healthz`: its answer comes from an
    /// event loop, the misses wait on executor threads.
    @Test func healthzAnswersWhile64SlowMissesAreInFlight() throws {
        let extra = BatchRunFixture.realtime(timeout: "10s", more: "max_in_flight: 64\nmax_queued: 0")
        try BatchRunFixture.with(extra: extra) { fixture in
            #expect(try fixture.run().status == 0)
            try fixture.setSource(rows: 2_000)
            let serve = try ServeProcess(fixture, more: ["--pool-size", "64"])
            defer { _ = serve.stop() }
            #expect(serve.waitReady(), "\(serve.output)")
            try fixture.setRealtimeSleep(2)
            let answered = Mutex(0)
            for key in 1_001...1_064 {
                Thread.detachNewThread {
                    if serve.get("/v1/scores/\(fixture.job)/\(key)", timeout: 30)?.status == 200 {
                        answered.withLock { $0 += 1 }
                    }
                }
            }
            usleep(300_000)
            var fastest = Double.infinity
            for _ in 0..<5 {
                let start = Date()
                #expect(serve.get("/healthz", timeout: 1)?.status == 200)
                fastest = min(fastest, Date().timeIntervalSince(start))
                usleep(50_000)
            }
            #expect(fastest < 0.05, "healthz took \(fastest) s with 64 misses in flight")
            #expect(
                poll(seconds: 30) { answered.withLock { $0 } == 64 }, "\(answered.withLock { $0 }) answered")
        }
    }

    /// Twenty concurrent misses of one key make one PostgreSQL query, and all get its answer.
    @Test func concurrentMissesOfOneKeyShareOneQuery() throws {
        try BatchRunFixture.with(extra: BatchRunFixture.realtime(timeout: "5s")) { fixture in
            #expect(try fixture.run().status == 0)
            try fixture.setSource(rows: 2_000)
            let serve = try ServeProcess(fixture)
            defer { _ = serve.stop() }
            #expect(serve.waitReady(), "\(serve.output)")
            try fixture.setRealtimeSleep(1)
            let sources = Mutex<[String]>([])
            let done = DispatchSemaphore(value: 0)
            for _ in 0..<20 {  // threads of their own: all twenty wait at once
                Thread.detachNewThread {
                    let answer = ServeProcess.object(serve.get("/v1/scores/\(fixture.job)/1777", timeout: 10))
                    sources.withLock { $0.append(answer["source"] as? String ?? "none") }
                    done.signal()
                }
            }
            for _ in 0..<20 { done.wait() }
            #expect(sources.withLock { $0 } == Array(repeating: "realtime", count: 20))
            #expect(try fixture.database.execute("SELECT last_value FROM realtime_queries").scalar == "1")
        }
    }
}
