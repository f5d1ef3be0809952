import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PrescoreCore
import PrescoreJobs
import PrescoreRedis
import PrescoreTestSupport
import Prometheus
import Testing

@testable import PrescoreServer

/// The routes through Hummingbird's test client, on the real Redis (a key prefix of the test's own):
/// status codes, problem+json, and the answer's fields.
@Suite struct ServeRoutesTests {
    let prefix = TestServers.uniqueName("t")

    func application(experiment: Bool = false, token: String? = nil) throws -> ServeApplication {
        let experimentBlock =
            experiment ? "\nexperiment: {name: routes_e, arms: {batch: 1, realtime: 0}}" : ""
        let text = """
            name: routes
            schedule: "@daily"
            model: {kind: logistic, version: v1, intercept: 0, link: identity, weights: {x: 1}}
            source: {query: "SELECT 1 AS key, 1.0 AS x"}
            output: {prefix: "\(prefix)", max_age: 1h}\(experimentBlock)
            """
        let definition = try #require(JobFileParser.parse(text, file: "routes.yaml", directory: ".").job)
        guard case .logistic(let model) = definition.model else { throw CancellationError() }
        let job = LoadedJob(definition: definition, scorer: model, text: text)
        var configuration = ServeConfiguration(
            databaseURL: TestServers.databaseURL, redisURL: try RedisURL(TestServers.redisURL))
        configuration.exposureSpool =
            FileManager.default.temporaryDirectory.appendingPathComponent(prefix).path
        configuration.apiToken = token
        return try ServeApplication(
            configuration: configuration, jobs: [job], registry: PrometheusCollectorRegistry(),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    /// Publishes run 7 with one bucket holding key 42 → 0.25, computed two hours ago.
    func publish() throws {
        let store = ScoreStore(
            connection: try RedisConnection(url: RedisURL(TestServers.redisURL)),
            layout: ScoreLayout(prefix: prefix, job: "routes"))
        let run = PublishedRun(
            runID: 7, buckets: 1, modelVersion: "v1", computedAt: Int64(Date().timeIntervalSince1970) - 7_200,
            rows: 1)
        try store.register(run, ttl: .seconds(60))
        try store.connection.command(
            [Array("HSET".utf8), Array(store.layout.bucketKey(run: 7, bucket: 0).utf8), Array("42".utf8)]
                + [ScoreLayout.encode(0.25)])
        #expect(try store.publish(run) == nil)
    }

    @Test func answersAHitWithTheContractFieldsAndStaleAfterMaxAge() async throws {
        try publish()
        let app = Application(responder: try application().responder)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/scores/routes/42", method: .get) { response in
                #expect(response.status == .ok)
                let object =
                    try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                #expect(object?["score"] as? Double == 0.25)
                #expect(object?["run_id"] as? String == "7")
                #expect(object?["source"] as? String == "batch")
                #expect(object?["stale"] as? Bool == true, "computed two hours ago, max_age 1h")
                #expect(((object?["age_seconds"] as? Double) ?? 0) >= 7_200)
            }
            try await client.execute(uri: "/v1/scores/routes/43", method: .get) { response in
                #expect(response.status == .notFound, "no realtime: a miss is a 404")
            }
        }
    }

    /// The hot route's hand matcher takes exactly `/v1/scores/{job}/{key}`, the key still encoded;
    /// anything else goes on to the router.
    @Test(
        arguments: [
            ("/v1/scores/routes/42", "routes", "42"),
            ("/v1/scores/routes/a%2Fb%20c", "routes", "a%2Fb%20c"),
            ("/v1/scores/routes/batch", "routes", "batch"),
            ("/v1/scores/routes/", nil, nil), ("/v1/scores//42", nil, nil), ("/v1/scores/routes", nil, nil),
            ("/v1/scores/routes/42/x", nil, nil), ("/v1/scoresx/routes/42", nil, nil), ("/healthz", nil, nil),
        ] as [(String, String?, String?)])
    func matchesTheScorePathByHand(path: String, job: String?, key: String?) {
        let matched = ScorePath.parse(path)
        #expect(matched?.job == job)
        #expect(matched?.key == key)
    }

    @Test func refusesUnknownJobsBadKeysAndBadBodiesAsProblems() async throws {
        let app = Application(responder: try application().responder)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/scores/nope/1", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
                let object =
                    try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                #expect(object?["status"] as? Int == 404)
                #expect((object?["detail"] as? String)?.contains("nope") == true)
            }
            for key in ["%00", String(repeating: "k", count: 257), "%zz"] {
                try await client.execute(uri: "/v1/scores/routes/\(key)", method: .get) { response in
                    #expect(response.status == .badRequest, "\(key)")
                }
            }
            try await client.execute(
                uri: "/v1/scores/routes/batch", method: .post, body: ByteBuffer(string: "[1,2]")
            ) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func outcomesNeedTheBearerTokenAndAWellFormedArray() async throws {
        let app = Application(responder: try application(experiment: true, token: "s3cret").responder)
        try await app.test(.router) { client in
            let body = ByteBuffer(string: #"[{"experiment":"routes_e","key":"1","metric":"m","value":1}]"#)
            for authorization in [nil, "Bearer s3cre", "Bearer s3cretX", "Basic s3cret", "s3cret"] {
                var headers: HTTPFields = [:]
                headers[.authorization] = authorization
                try await client.execute(uri: "/v1/outcomes", method: .post, headers: headers, body: body) {
                    #expect($0.status == .unauthorized, "\(authorization ?? "none")")
                }
            }
            let auth: HTTPFields = [.authorization: "Bearer s3cret"]
            for bad in [
                "{}", "[1]", #"[{"experiment":"other","key":"1","metric":"m","value":1}]"#,
                #"[{"experiment":"routes_e","key":"","metric":"m","value":1}]"#,
                #"[{"experiment":"routes_e","key":"1","metric":"m","value":"1"}]"#,
                #"[{"experiment":"routes_e","key":"1","metric":"m","value":true}]"#,
                #"[{"experiment":"routes_e","key":"1","metric":"m","value":1,"at":"soon"}]"#,
            ] {
                try await client.execute(
                    uri: "/v1/outcomes", method: .post, headers: auth, body: ByteBuffer(string: bad)
                ) {
                    #expect($0.status == .badRequest, "\(bad)")
                    #expect($0.headers[.contentType] == "application/problem+json")
                }
            }
            try await client.execute(uri: "/v1/experiments/nope/lift", method: .get) {
                #expect($0.status == .notFound)
            }
        }
    }

    @Test func withoutATokenOutcomesAreRefused() async throws {
        let app = Application(responder: try application(experiment: true).responder)
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/outcomes", method: .post, headers: [.authorization: "Bearer "],
                body: ByteBuffer(string: "[]")
            ) { #expect($0.status == .unauthorized) }
        }
    }
}
