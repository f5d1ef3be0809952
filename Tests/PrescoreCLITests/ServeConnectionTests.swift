import Foundation
import PrescoreTestSupport
import Synchronization
import Testing

/// `prescore serve` over connections that stay open, as product services use it: hits are
/// answered on the event loop there (`ScoreHitHandler`), everything else by Hummingbird, and a
/// connection must see its answers in request order, its idle timeout, and its close.
@Suite struct ServeConnectionTests {
    /// Requests pipelined on one connection are answered in order, whichever path answers each:
    /// hits, a slow miss through the fallback, other routes, errors; hits sent together while a
    /// lookup is under way wait their turn.
    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        try BatchRunFixture.with(extra: BatchRunFixture.realtime(timeout: "5s")) { fixture in
            #expect(try fixture.run().status == 0)
            try fixture.setSource(rows: 2_000)  // 1001…2000 exist in PostgreSQL only
            let serve = try ServeProcess(fixture)
            defer { _ = serve.stop() }
            #expect(serve.waitReady(), "\(serve.output)")
            try fixture.setRealtimeSleep(0.3)
            let connection = try #require(RawHTTPConnection(port: serve.port))
            let job = "/v1/scores/\(fixture.job)/"

            func exchange(_ paths: [String]) -> [(status: Int?, key: String?, source: String?)] {
                #expect(connection.send(paths.map { RawHTTPConnection.get($0) }.joined()))
                return paths.map { _ in
                    let answer = connection.response()
                    let object = ServeProcess.object(answer)
                    return (answer?.status, object["key"] as? String, object["source"] as? String)
                }
            }
            let first = exchange([
                job + "500", job + "1500", job + "7", "/healthz", job + "5000", job + "%00", job + "8",
                "/v1/scores/no_such_job/1", job + "9",
            ])
            #expect(first.map(\.status) == [200, 200, 200, 200, 404, 400, 200, 404, 200])
            #expect(first.map(\.key) == ["500", "1500", "7", nil, nil, nil, "8", nil, "9"])
            #expect(
                first.map(\.source) == ["batch", "realtime", "batch", nil, nil, nil, "batch", nil, "batch"])

            // The pointer is cached now: the first hit is looked up on the event loop while the
            // rest wait, then each goes its way in turn.
            let second = exchange([
                job + "11", job + "12", "/metrics", job + "13", job + "1600", job + "14", job + "15",
            ])
            #expect(second.map(\.status) == [200, 200, 200, 200, 200, 200, 200])
            #expect(second.map(\.key) == ["11", "12", nil, "13", "1600", "14", "15"])
            #expect(second[4].source == "realtime")
            #expect(connection.send(RawHTTPConnection.get(job + "16")))
            let hit = connection.response()
            #expect(ServeProcess.object(hit)["score"] as? Double == 0.016)
            #expect(hit?.headers["content-type"] == "application/json")
            #expect(hit?.headers["server"] == "prescore")
            #expect(hit?.headers["date"]?.hasSuffix(" GMT") == true)

            // A body slower than 5 s is refused (408); a head that never ends is cut at the
            // idle timeout (`busyConnectionsStayOpenIdleOnesAreClosed`).
            let slow = try #require(RawHTTPConnection(port: serve.port, timeout: 15))
            #expect(
                slow.send(
                    "POST /v1/scores/\(fixture.job)/batch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        + "Content-Length: 100\r\n\r\n{\"keys\""))
            #expect(slow.response()?.status == 408)

            // A hit asking to close is answered, then the connection is closed.
            #expect(connection.send(RawHTTPConnection.get(job + "17", headers: "Connection: close\r\n")))
            #expect(ServeProcess.object(connection.response())["key"] as? String == "17")
            #expect(connection.closedByServer())
        }
    }

    /// A hit waiting for Redis keeps the requests sent after it waiting too, even one that
    /// needs no Redis: Redis holds every command for a moment (`CLIENT PAUSE … ALL`, on a server of
    /// the test's own) while a hit, `/healthz` and 60 more hits are pipelined (more than the
    /// handler keeps before it stops reading).
    @Test func aHitWaitingForRedisKeepsTheNextAnswersBehindIt() throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        try BatchRunFixture.with(redisURL: redis.url) { fixture in
            #expect(try fixture.run().status == 0)
            let serve = try ServeProcess(fixture)
            defer { _ = serve.stop() }
            #expect(serve.waitReady(), "\(serve.output)")
            #expect(serve.get("/v1/scores/\(fixture.job)/1")?.status == 200)  // the pointer is cached
            let connection = try #require(RawHTTPConnection(port: serve.port))
            try fixture.redis.command("CLIENT", "PAUSE", "700", "ALL")
            let hits = (20..<80).map { "/v1/scores/\(fixture.job)/\($0)" }
            let paths = ["/v1/scores/\(fixture.job)/11", "/healthz"] + hits
            // Bytes that do not parse come last: their 400 (and the close) too.
            #expect(connection.send(paths.map { RawHTTPConnection.get($0) }.joined() + "NOT HTTP\r\n\r\n"))
            let answers = paths.map { _ in connection.response() }
            #expect(answers.allSatisfy { $0?.status == 200 })
            #expect(connection.response()?.status == 400)
            #expect(connection.closedByServer())
            #expect(ServeProcess.object(answers[0])["key"] as? String == "11")
            #expect(answers[1]?.body == "ok\n")
            #expect(
                answers.dropFirst(2).map { ServeProcess.object($0)["key"] as? String }
                    == (20..<80).map { "\($0)" })
        }
    }

    /// A miss on a kept-alive connection is answered on the event loop too, with one `HGET`
    /// (counted on a Redis server of the test's own: `INFO commandstats`): scored by the fallback,
    /// absent (404), past `realtime.timeout` (503 with `Retry-After`), each counted in the metrics;
    /// a slow miss in flight at SIGTERM is answered before `serve` exits 0.
    @Test func missesOnAKeptConnectionAreAnsweredThere() throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        try BatchRunFixture.with(extra: BatchRunFixture.realtime(timeout: "500ms"), redisURL: redis.url) {
            fixture in
            #expect(try fixture.run().status == 0)
            try fixture.setSource(rows: 2_000)
            let serve = try ServeProcess(fixture)
            #expect(serve.waitReady(), "\(serve.output)")
            let connection = try #require(RawHTTPConnection(port: serve.port))
            func get(_ key: Int) -> RawHTTP.Response? {
                #expect(connection.send(RawHTTPConnection.get("/v1/scores/\(fixture.job)/\(key)")))
                return connection.response()
            }
            func hgets() throws -> Int {
                let stats = try fixture.redis.info("commandstats")["cmdstat_hget"] ?? ""
                return Int(stats.split(separator: ",").first?.dropFirst("calls=".count) ?? "") ?? 0
            }
            #expect(ServeProcess.object(get(5))["source"] as? String == "batch")  // the pointer is cached
            let before = try hgets()
            let scored = get(1_500)
            #expect(scored?.status == 200)
            #expect(scored?.headers["content-type"] == "application/json")
            #expect(ServeProcess.object(scored)["source"] as? String == "realtime")
            #expect(ServeProcess.object(scored)["score"] as? Double == 1.5)
            #expect(try hgets() == before + 1)
            #expect(poll(seconds: 5) { ServeProcess.object(get(1_500))["source"] as? String == "batch" })

            let absent = get(5_000)
            #expect(absent?.status == 404)
            #expect(absent?.headers["content-type"] == "application/problem+json")
            #expect(ServeProcess.object(absent)["status"] as? Int == 404)
            try fixture.setRealtimeSleep(1)
            let late = get(1_600)
            #expect(late?.status == 503)
            #expect(late?.headers["retry-after"] != nil)
            #expect(
                ServeProcess.object(late)["detail"] as? String
                    == "the realtime fallback could not answer: no answer within realtime.timeout")
            let metrics = serve.get("/metrics")?.body ?? ""
            for line in [
                "prescore_fallback_total{job=\"\(fixture.job)\",outcome=\"scored\"} 1",
                "prescore_fallback_total{job=\"\(fixture.job)\",outcome=\"not_found\"} 1",
                "prescore_fallback_total{job=\"\(fixture.job)\",outcome=\"timeout\"} 1",
                "prescore_score_misses_total{job=\"\(fixture.job)\"} 3",
                "prescore_http_request_duration_seconds_count{route=\"score\",source=\"realtime\"} 1",
            ] {
                #expect(metrics.contains(line), "\(line)")
            }
            #expect(serve.stop() == 0)
        }
    }

    /// A slow miss in flight on a kept-alive connection at SIGTERM is answered, then `serve`
    /// closes the connection and exits 0.
    @Test func aMissInFlightAtSigtermIsAnswered() throws {
        try BatchRunFixture.with(extra: BatchRunFixture.realtime(timeout: "5s")) { fixture in
            #expect(try fixture.run().status == 0)
            try fixture.setSource(rows: 2_000)
            let serve = try ServeProcess(fixture)
            #expect(serve.waitReady(), "\(serve.output)")
            let connection = try #require(RawHTTPConnection(port: serve.port, timeout: 15))
            let path = "/v1/scores/\(fixture.job)/"
            #expect(connection.send(RawHTTPConnection.get(path + "5")))  // the pointer is cached
            #expect(connection.response()?.status == 200)
            try fixture.setRealtimeSleep(1)
            #expect(connection.send(RawHTTPConnection.get(path + "1700")))
            usleep(300_000)
            let status = Mutex<Int32?>(nil)
            Thread.detachNewThread { status.withLock { $0 = serve.stop() } }
            let answer = connection.response()
            #expect(ServeProcess.object(answer)["source"] as? String == "realtime")
            #expect(connection.closedByServer())
            #expect(poll(seconds: 10) { status.withLock { $0 } == 0 })
        }
    }

    /// Redis cut under a kept-alive connection at two moments: while hits wait on it (killed
    /// during `CLIENT PAUSE`), and between requests. The waiting hits are answered 503 in order,
    /// the connection stays usable, and once Redis is back (same port, run published again) hits
    /// are answered again without restarting `serve`, which then exits 0 on SIGTERM.
    @Test func redisCutUnderAKeptConnectionIs503InOrderAndRecovers() throws {
        let redis = try RedisServerProcess()
        try BatchRunFixture.with(redisURL: redis.url) { fixture in
            #expect(try fixture.run().status == 0)
            let serve = try ServeProcess(fixture)
            #expect(serve.waitReady(), "\(serve.output)")
            let connection = try #require(RawHTTPConnection(port: serve.port))
            let hit = RawHTTPConnection.get("/v1/scores/\(fixture.job)/7")
            #expect(connection.send(hit))
            #expect(connection.response()?.status == 200)
            // A key this job (no fallback) has no score for: 404, answered on the event loop.
            #expect(connection.send(RawHTTPConnection.get("/v1/scores/\(fixture.job)/5000")))
            let absent = connection.response()
            #expect(absent?.status == 404)
            #expect(absent?.headers["content-type"] == "application/problem+json")

            try fixture.redis.command("CLIENT", "PAUSE", "5000", "ALL")
            #expect(connection.send(hit + RawHTTPConnection.get("/healthz") + hit))
            usleep(300_000)
            redis.stop()
            let waited = (0..<3).map { _ in connection.response() }
            #expect(waited.map { $0?.status } == [503, 200, 503])
            #expect(waited[0]?.headers["retry-after"] != nil)

            #expect(connection.send(hit))
            #expect(connection.response()?.status == 503)

            let again = try RedisServerProcess(port: redis.port)
            defer { again.stop() }
            #expect(try fixture.run().status == 0)  // the restarted server is empty: publish again
            #expect(
                poll(seconds: 10) {
                    connection.send(hit) && connection.response()?.status == 200
                }, "\(serve.output)")
            #expect(serve.stop() == 0, "\(serve.output)")
        }
    }

    /// A connection asking for hits longer than the idle timeout stays open; once idle for the
    /// timeout it is closed. SIGTERM closes an idle kept-alive connection and exits 0.
    @Test func busyConnectionsStayOpenIdleOnesAreClosed() throws {
        try BatchRunFixture.with { fixture in
            #expect(try fixture.run().status == 0)
            let serve = try ServeProcess(fixture, more: ["--idle-timeout", "1s"])
            #expect(serve.waitReady(), "\(serve.output)")
            let busy = try #require(RawHTTPConnection(port: serve.port))
            for key in 1...8 {  // 2.4 s of hits
                #expect(busy.send(RawHTTPConnection.get("/v1/scores/\(fixture.job)/\(key)")))
                #expect(busy.response()?.status == 200, "hit \(key)")
                usleep(300_000)
            }
            let idleFrom = Date()
            #expect(busy.closedByServer())
            #expect(Date().timeIntervalSince(idleFrom) > 0.5)

            let trickling = try #require(RawHTTPConnection(port: serve.port))
            #expect(trickling.send("GET /v1/scores/\(fixture.job)/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"))
            #expect(trickling.closedByServer(), "a head that never ends is cut at the idle timeout")

            let open = try #require(RawHTTPConnection(port: serve.port))
            #expect(open.send(RawHTTPConnection.get("/v1/scores/\(fixture.job)/3")))
            #expect(open.response()?.status == 200)
            #expect(serve.stop() == 0, "\(serve.output)")
            #expect(open.closedByServer())
        }
    }
}
