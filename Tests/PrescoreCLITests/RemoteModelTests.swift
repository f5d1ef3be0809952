import Foundation
import PrescoreCore
import PrescorePostgres
import PrescoreRedis
import PrescoreTestSupport
import Testing

/// `model: {kind: remote}` against a real Seldon MLServer serving the demo XGBoost model: scores
/// equal the in-process model's, a slow server meets the timeout, a server gone fails the run
/// cleanly.
@Suite(.serialized) struct RemoteModelTests {
    /// The demo model's features, in its order: the input tensor's columns.
    static let features: [String] = {
        let file = PrescoreProcess.repositoryRoot.appendingPathComponent("jobs/models/fraud_risk.json")
        return (try? XGBoostModel(json: Data(contentsOf: file), source: file.path).featureNames) ?? nil ?? []
    }()
    static let modelFile = PrescoreProcess.repositoryRoot.appendingPathComponent(
        "jobs/models/fraud_risk.json"
    ).path

    static func block(url: String, timeout: String = "5s", retries: Int = 1) -> String {
        """
        model:
          kind: remote
          url: \(url)
          name: fraud_risk
          features: [\(features.joined(separator: ", "))]
          input: {name: input-0, datatype: FP32}
          output: {name: predict}
          batch_size: 256
          concurrency: 4
          timeout: \(timeout)
          retries: \(retries)
          headers: {Authorization: "Bearer ${MODEL_TOKEN}"}
        """
    }

    static func scores(_ file: URL) throws -> [String: Double] {
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").dropFirst()
        return Dictionary(
            uniqueKeysWithValues: lines.map { line in
                let parts = line.split(separator: ",")
                return (String(parts[0]), Double(parts[1]) ?? .nan)
            })
    }

    @Test func predictMatchesTheInProcessModelAndTheTimeoutFires() throws {
        let server = try ModelServerProcess(modelFile: Self.modelFile, name: "fraud_risk")
        defer { server.stop() }
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("remote.yaml", Self.block(url: server.url))
        let input = ModelPredictTests.fixtures.appendingPathComponent("fraud_risk_parity_input.csv").path
        let out = folder.url.appendingPathComponent("out.csv")
        let arguments = [
            "model", "predict", "--model", folder.url.appendingPathComponent("remote.yaml").path, "--input",
            input,
            "--output", out.path,
        ]
        let unset = try PrescoreProcess.run(arguments)
        #expect(unset.status != 0)
        #expect(unset.standardError.contains("MODEL_TOKEN, which is not set"), "\(unset.standardError)")

        let predicted = try PrescoreProcess.run(arguments, environment: ["MODEL_TOKEN": "t"])
        #expect(predicted.status == 0, "\(predicted.standardError)")
        let remote = try Self.scores(out)
        let local = try Self.scores(
            ModelPredictTests.fixtures.appendingPathComponent("fraud_risk_parity_expected.csv"))
        #expect(remote.count == local.count && remote.count > 1_000)
        let worst = local.map { abs(($0.value) - (remote[$0.key] ?? .nan)) }.max() ?? .nan
        #expect(worst <= 1e-6, "largest difference \(worst)")

        // A server that stops answering: each request meets its timeout, the scores are NaN.
        let proxy = PausableTCPProxy(targetPort: server.port)
        defer { proxy.stop() }
        try folder.write(
            "slow.yaml", Self.block(url: "http://127.0.0.1:\(proxy.port)", timeout: "300ms", retries: 0))
        proxy.pause()
        let started = Date()
        let slow = try PrescoreProcess.run(
            [
                "model", "predict", "--model", folder.url.appendingPathComponent("slow.yaml").path, "--input",
                input,
                "--output", out.path,
            ], environment: ["MODEL_TOKEN": "t"])
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(slow.status != 0)
        #expect(slow.standardError.contains("Timeout was reached"), "\(slow.standardError)")
        #expect(try Self.scores(out).values.allSatisfy(\.isNaN), "every row timed out")

        // A model the server does not have: its status and message, not a guess.
        try folder.write(
            "wrong.yaml",
            Self.block(url: server.url).replacingOccurrences(of: "name: fraud_risk", with: "name: nope"))
        let wrong = try PrescoreProcess.run(
            [
                "model", "predict", "--model", folder.url.appendingPathComponent("wrong.yaml").path,
                "--input", input,
                "--output", out.path,
            ], environment: ["MODEL_TOKEN": "t"])
        #expect(wrong.status != 0)
        #expect(wrong.standardError.contains("answered HTTP 404"), "\(wrong.standardError)")
    }

    /// The demo job run through MLServer scores what the in-process model scores; with the server
    /// gone, the run fails, says why, and the published scores stay.
    @Test func aBatchRunThroughMLServerAndOneWhoseServerIsGone() throws {
        let server = try ModelServerProcess(modelFile: Self.modelFile, name: "fraud_risk")
        defer { server.stop() }
        try TestServers.withTemporaryDatabase { url in
            let seeded = try PrescoreProcess.run([
                "demo", "seed", "--entities", "3000", "--database-url", url,
            ])
            #expect(seeded.status == 0, "\(seeded.standardError)")
            #expect(try PrescoreProcess.run(["migrate", "--database-url", url]).status == 0)
            let folder = try TemporaryFolder()
            defer { folder.remove() }
            let prefix = TestServers.uniqueName("r")
            let source = "SELECT user_id AS key, \(Self.features.joined(separator: ", ")) FROM demo.users"
            // remote_j publishes users 1…2000; a miss of a later one is scored through MLServer.
            let realtime = """
                realtime:
                  query: "\(source) WHERE user_id = $1::int"
                  timeout: 2s
                  on_failure: {default_score: -1}
                  breaker: {minimum_calls: 2, window: 4, cool_down: 30s}
                """
            for (job, model, limit, more) in [
                ("remote_j", Self.block(url: server.url), " WHERE user_id <= 2000", realtime),
                ("local_j", "model: {kind: xgboost-json, path: \(Self.modelFile), version: v1}", "", ""),
            ] {
                try folder.write(
                    "\(job).yaml",
                    "name: \(job)\nschedule: \"@daily\"\n\(model)\nsource: {query: \"\(source)\(limit)\"}\n"
                        + "output: {prefix: \(prefix)}\n\(more)\n")
            }
            func run(_ job: String) throws -> PrescoreProcess {
                try PrescoreProcess.run(
                    [
                        "run", job, "--jobs-dir", folder.url.path, "--database-url", url, "--redis-url",
                        TestServers.redisURL,
                    ], environment: ["MODEL_TOKEN": "t"])
            }
            for job in ["remote_j", "local_j"] {
                let result = try run(job)
                #expect(result.status == 0, "\(job): \(result.standardError)")
            }
            let redis = try RedisConnection(url: RedisURL(TestServers.redisURL))
            let remote = ScoreStore(connection: redis, layout: ScoreLayout(prefix: prefix, job: "remote_j"))
            let local = ScoreStore(connection: redis, layout: ScoreLayout(prefix: prefix, job: "local_j"))
            for key in stride(from: 1, through: 2_000, by: 7).map(String.init) {
                let a = try #require(try remote.score(forKey: key)?.score)
                let b = try #require(try local.score(forKey: key)?.score)
                #expect(abs(a - b) <= 1e-6, "\(key): \(a) vs \(b)")
            }
            let published = try remote.published()?.runID

            // The realtime fallback through MLServer: a miss answered with the in-process score.
            let serve = try ServeProcess(
                jobs: folder.url, databaseURL: url, redisURL: TestServers.redisURL,
                environment: ["MODEL_TOKEN": "t"])
            defer { _ = serve.stop() }
            #expect(serve.waitReady(), "\(serve.output)")
            let miss = ServeProcess.object(serve.get("/v1/scores/remote_j/2500"))
            #expect(miss["source"] as? String == "realtime", "\(miss) \(serve.output)")
            let expected = try #require(try local.score(forKey: "2500")?.score)
            #expect(abs((miss["score"] as? Double ?? .nan) - Double(expected)) <= 1e-6)

            // The server cut mid-run (behind a proxy, requests of 4 rows one at a time): the run
            // fails, says why, and leaves no keys behind.
            let proxy = PausableTCPProxy(targetPort: server.port)
            defer { proxy.stop() }
            var slow = Self.block(url: "http://127.0.0.1:\(proxy.port)", timeout: "2s", retries: 1)
            slow = slow.replacingOccurrences(of: "batch_size: 256", with: "batch_size: 4")
                .replacingOccurrences(of: "concurrency: 4", with: "concurrency: 1")
            try folder.write(
                "cut_j.yaml",
                "name: cut_j\nschedule: \"@daily\"\n\(slow)\nsource: {query: \"\(source)\"}\noutput: {prefix: \(prefix)}\n"
            )
            let running = try PrescoreProcess.start(
                [
                    "run", "cut_j", "--jobs-dir", folder.url.path, "--database-url", url, "--redis-url",
                    TestServers.redisURL,
                ], environment: ["MODEL_TOKEN": "t"])
            usleep(700_000)
            #expect(running.process.isRunning, "the run is still going when the server goes")
            proxy.cut()
            let cut = running.finish()
            #expect(cut.status != 0)
            #expect(cut.standardError.contains("the model server"), "\(cut.standardError)")
            var leftovers: [String] = []
            try redis.scan(matching: "\(prefix):cut_j:*") { leftovers += $0 }
            #expect(leftovers.isEmpty, "\(leftovers)")

            server.stop()
            // MLServer gone: the fallback fails, its breaker counts it, the miss gets the default.
            for key in 2_600..<2_604 {
                let answer = ServeProcess.object(serve.get("/v1/scores/remote_j/\(key)"))
                #expect(answer["source"] as? String == "default", "\(answer)")
            }
            let metrics = serve.get("/metrics")?.body ?? ""
            #expect(
                metrics.contains("prescore_fallback_total{job=\"remote_j\",outcome=\"failed\"}"), "\(metrics)"
            )
            #expect(metrics.contains("prescore_breaker_state{job=\"remote_j\"} 1"), "the breaker opened")
            let failed = try run("remote_j")
            #expect(failed.status != 0)
            #expect(failed.standardError.contains("could not be scored"), "\(failed.standardError)")
            #expect(failed.standardError.contains("the model server"), "\(failed.standardError)")
            #expect(try remote.published()?.runID == published, "the published scores stay")
            let database = try PostgresConnection(url: url)
            let recorded = try database.execute(
                "SELECT status, error FROM prescore.job_runs WHERE job = 'remote_j' ORDER BY run_id DESC LIMIT 1"
            ).rows.first
            #expect(recorded?[0] == "failed")
            #expect(recorded?[1]?.contains("fraud_risk") == true, "\(recorded?[1] ?? "")")
        }
    }

    /// 429 and 5xx are retried (`retries` more times), other statuses are not; every request
    /// carries the header resolved from the environment; the error gives the status and message.
    @Test func retriesOverloadedServersOnlyAndSendsTheResolvedHeader() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let input = folder.url.appendingPathComponent("in.csv")
        try
            ("key," + Self.features.joined(separator: ",") + "\n1,"
            + Self.features.map { _ in "1" }.joined(separator: ",")
            + "\n").write(to: input, atomically: true, encoding: .utf8)
        for (status, attempts) in [(503, 3), (429, 3), (400, 1)] {
            let server = LoopbackHTTPServer(status: status, body: #"{"error":"overloaded, try later"}"#)
            defer { server.stop() }
            try folder.write("m.yaml", Self.block(url: "http://127.0.0.1:\(server.port)", retries: 2))
            let result = try PrescoreProcess.run(
                [
                    "model", "predict", "--model", folder.url.appendingPathComponent("m.yaml").path,
                    "--input",
                    input.path, "--output", folder.url.appendingPathComponent("out.csv").path,
                ], environment: ["MODEL_TOKEN": "s3cret-token"])
            #expect(result.status != 0)
            #expect(
                result.standardError.contains("answered HTTP \(status): overloaded, try later"),
                "\(result.standardError)")
            #expect(!result.standardError.contains("s3cret-token"), "no secret in messages")
            #expect(server.receivedRequests.count == attempts, "\(status)")
            #expect(server.receivedRequests.allSatisfy { $0.contains("Authorization: Bearer s3cret-token") })
            #expect(server.receivedRequests.first?.contains("POST /v2/models/fraud_risk/infer") == true)
        }
    }

    /// A request refused once (503) and answered on its retry: every row scored, the command
    /// succeeds (no failure is left over from the refused attempt).
    @Test func aRequestThatSucceedsOnItsRetryLeavesNoFailure() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let input = folder.url.appendingPathComponent("in.csv")
        try
            ("key," + Self.features.joined(separator: ",") + "\n1,"
            + Self.features.map { _ in "1" }.joined(separator: ",") + "\n").write(
                to: input, atomically: true, encoding: .utf8)
        let answer =
            #"{"model_name":"fraud_risk","outputs":[{"name":"predict","shape":[1,1],"datatype":"FP32","data":[0.25]}]}"#
        let server = LoopbackHTTPServer(responses: [(503, #"{"error":"warming up"}"#), (200, answer)])
        defer { server.stop() }
        try folder.write("m.yaml", Self.block(url: "http://127.0.0.1:\(server.port)", retries: 2))
        let out = folder.url.appendingPathComponent("out.csv")
        let result = try PrescoreProcess.run(
            [
                "model", "predict", "--model", folder.url.appendingPathComponent("m.yaml").path, "--input",
                input.path, "--output", out.path,
            ], environment: ["MODEL_TOKEN": "t"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(try Self.scores(out) == ["1": 0.25])
        #expect(server.receivedRequests.count == 2)
    }
}
