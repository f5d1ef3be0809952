import Foundation
import Hummingbird
import NIOCore
import PrescoreBatch
import PrescoreCore
import PrescorePostgres

extension ServeApplication {
    /// `GET /v1/scores/{job}/{key}`; the key percent-decoded from the path.
    static func score(_ service: ScoreService, job: String, rawKey: String) async -> (
        Response, ScoreAnswer.Source?
    ) {
        guard let served = service.jobs[job] else {
            return (Problem.response(.notFound, "no job named \(job) is served"), nil)
        }
        guard let key = ScoreKey.percentDecoded(Substring(rawKey)) else {
            return (Problem.response(.badRequest, "the key is not valid percent-encoding"), nil)
        }
        if let problem = ScoreKey.problem(key) { return (Problem.response(.badRequest, problem), nil) }
        let lookup = await service.score(served, key: key)
        return (response(lookup), lookup.source)
    }

    static func response(_ lookup: ScoreService.Lookup) -> Response {
        let (status, json, retryAfter) = answer(lookup)
        return Problem.response(status, json: json, retryAfter: retryAfter)
    }

    /// What `response` is made of, for the event loop's path too (`ScoreHitHandler`): the status,
    /// the JSON (a score, or a problem when the status is not 200) and the `Retry-After` seconds.
    static func answer(_ lookup: ScoreService.Lookup) -> (HTTPResponse.Status, String, Int?) {
        switch lookup {
        case .answer(let answer): (.ok, answer.json, nil)
        case .notFound(let detail): (.notFound, Problem.body(.notFound, detail), nil)
        case .unavailable(let detail, let retryAfter):
            (.serviceUnavailable, Problem.body(.serviceUnavailable, detail), retryAfter)
        }
    }

    /// `POST /v1/scores/{job}/batch` with `{"keys": [...]}`: `{"results": [...]}` in order, each an
    /// answer or `{"key","error"}`.
    static func batch(
        _ service: ScoreService, job: String, request: Request, configuration: ServeConfiguration
    ) async -> Response {
        guard let served = service.jobs[job] else {
            return Problem.response(.notFound, "no job named \(job) is served")
        }
        let body: ByteBuffer
        switch await collect(request, configuration: configuration) {
        case .success(let collected): body = collected
        case .failure(let refusal): return refusal.response
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
            let list = object["keys"] as? [Any]
        else { return Problem.response(.badRequest, "the body must be a JSON object {\"keys\": [\"…\", …]}") }
        guard list.count <= configuration.maxBatchKeys else {
            return Problem.response(
                .contentTooLarge, "\(list.count) keys: at most \(configuration.maxBatchKeys)")
        }
        guard let keys = list as? [String] else {
            return Problem.response(.badRequest, "every key must be a string")
        }
        var results = [String?](repeating: nil, count: keys.count)
        var valid: [Int] = []
        for (index, key) in keys.enumerated() {
            if let problem = ScoreKey.problem(key) {
                results[index] = JSONText.object([("key", .string(key)), ("error", .string(problem))])
            } else {
                valid.append(index)
            }
        }
        let lookups = await service.scores(served, keys: valid.map { keys[$0] })
        for (index, lookup) in zip(valid, lookups) {
            switch lookup {
            case .answer(let answer): results[index] = answer.json
            case .notFound(let detail), .unavailable(let detail, _):
                results[index] = JSONText.object([("key", .string(keys[index])), ("error", .string(detail))])
            }
        }
        return Problem.json("{\"results\":[" + results.map { $0! }.joined(separator: ",") + "]}")
    }

    /// A body refused: too large (413) or too slow (408).
    struct BodyRefusal: Error {
        let response: Response
    }

    /// The request body, at most `maxBodyBytes`, arriving within `bodyTimeout`.
    static func collect(_ request: Request, configuration: ServeConfiguration) async -> Result<
        ByteBuffer, BodyRefusal
    > {
        do {
            return .success(
                try await withDeadline(configuration.bodyTimeout) {
                    try await request.body.collect(upTo: configuration.maxBodyBytes)
                })
        } catch is NIOTooManyBytesError {
            return .failure(
                BodyRefusal(
                    response: Problem.response(
                        .contentTooLarge, "the body is over \(configuration.maxBodyBytes) bytes")))
        } catch {
            return .failure(
                BodyRefusal(response: Problem.response(.requestTimeout, "the body did not arrive in time")))
        }
    }

    /// 200 when Redis answers PING, jobs are loaded, and (when a job has a fallback) PostgreSQL
    /// answers; else 503 naming what is not.
    func ready() async -> Response {
        var problems: [String] = []
        if service.jobs.isEmpty { problems.append("no job is loaded") }
        do {
            let reply = try await service.redis.command(["PING"])
            if reply.string != "PONG" { problems.append("Redis answered PING with \(reply)") }
        } catch {
            problems.append("Redis: \(error)")
        }
        if let pool {
            if pool.isWarmingUp {
                problems.append("PostgreSQL: the realtime fallback's connections are still opening")
            }
            let url = configuration.databaseURL
            do {
                _ = try await BlockingExecutor.shared.run("prescore-readyz") {
                    try PostgresConnection(
                        url: url, applicationName: "prescore serve readyz", deadline: .seconds(1)
                    )
                    .execute("SELECT 1")
                }
            } catch {
                problems.append("PostgreSQL (realtime fallback): \(error)")
            }
        }
        let text = problems.isEmpty ? "ready\n" : "not ready: " + problems.joined(separator: "; ") + "\n"
        return Response(
            status: problems.isEmpty ? .ok : .serviceUnavailable,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Prometheus text, the score-age gauges brought up to date first.
    func metricsText() -> Response {
        let now = Date().timeIntervalSince1970
        for (name, served) in service.jobs {
            if let run = service.pointers.cached(served.layout.pointerKey) {
                service.metrics.age(name, seconds: max(0, now - Double(run.computedAt)))
            }
        }
        if let pool {
            let load = pool.load
            service.metrics.poolInUse.record(load.inUse)
            service.metrics.poolWaiting.record(load.waiting)
        }
        var text: [UInt8] = []
        registry.emit(into: &text)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: text)))
    }

    /// Runs `body`, or throws `CancellationError` once `limit` has passed.
    static func withDeadline<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T)
        async throws -> T
    {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                throw CancellationError()
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }
}
