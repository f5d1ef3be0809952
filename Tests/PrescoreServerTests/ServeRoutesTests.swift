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

    func application() throws -> ServeApplication {
        let text = """
            name: routes
            schedule: "@daily"
            model: {kind: logistic, version: v1, intercept: 0, link: identity, weights: {x: 1}}
            source: {query: "SELECT 1 AS key, 1.0 AS x"}
            output: {prefix: "\(prefix)", max_age: 1h}
            """
        let definition = try #require(JobFileParser.parse(text, file: "routes.yaml", directory: ".").job)
        guard case .logistic(let model) = definition.model else { throw CancellationError() }
        let job = LoadedJob(definition: definition, scorer: model, text: text)
        let configuration = ServeConfiguration(
            databaseURL: TestServers.databaseURL, redisURL: try RedisURL(TestServers.redisURL))
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
        let app = Application(router: try application().router)
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

    @Test func refusesUnknownJobsBadKeysAndBadBodiesAsProblems() async throws {
        let app = Application(router: try application().router)
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
}
