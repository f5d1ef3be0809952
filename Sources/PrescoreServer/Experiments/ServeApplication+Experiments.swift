import Foundation
import Hummingbird
import PrescoreBatch
import PrescoreCore
import PrescorePostgres

extension ServeApplication {
    /// `POST /v1/outcomes`: a JSON array of `{experiment, key, metric, value, at}` (`at` RFC 3339
    /// or Unix seconds, default now), authorised by `Authorization: Bearer $PRESCORE_API_TOKEN`.
    /// All items are checked first; one bad item refuses the request (400, naming it), so a
    /// retry never half-duplicates. Written with one COPY: `{"accepted": n}`.
    static func outcomes(
        _ service: ScoreService, request: Request, configuration: ServeConfiguration, pool: PostgresPool?
    ) async -> Response {
        guard let token = configuration.apiToken else {
            return Problem.response(
                .unauthorized, "this serve has no PRESCORE_API_TOKEN: outcomes are refused")
        }
        guard BearerToken.matches(request.headers[.authorization], token: token) else {
            var response = Problem.response(
                .unauthorized, "outcomes need Authorization: Bearer <PRESCORE_API_TOKEN>")
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        guard let pool else { return Problem.response(.notFound, "no job served here runs an experiment") }
        let body: ByteBuffer
        switch await collect(request, configuration: configuration) {
        case .success(let collected): body = collected
        case .failure(let refusal): return refusal.response
        }
        guard let list = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [Any] else {
            return Problem.response(
                .badRequest, "the body must be a JSON array of {experiment, key, metric, value, at}")
        }
        guard list.count <= configuration.maxOutcomes else {
            return Problem.response(
                .contentTooLarge, "\(list.count) outcomes: at most \(configuration.maxOutcomes)")
        }
        let experiments = Set(service.jobs.values.compactMap { $0.experiment?.name })
        var outcomes: [Outcome] = []
        let now = Date().timeIntervalSince1970
        for (index, item) in list.enumerated() {
            switch OutcomeItem.parse(item, experiments: experiments, now: now) {
            case .success(let outcome): outcomes.append(outcome)
            case .failure(let problem):
                return Problem.response(.badRequest, "item \(index): \(problem.message)")
            }
        }
        let checked = outcomes
        do {
            let written = try await BlockingExecutor.shared.run("prescore-outcomes") {
                try pool.withConnection { try ExperimentTables.writeOutcomes(checked, on: $0.connection) }
            }
            return Problem.json(JSONText.object([("accepted", .number(written))]))
        } catch {
            return Problem.response(
                .serviceUnavailable, "the outcomes were not written (PostgreSQL: \(error)); send them again",
                retryAfter: 1)
        }
    }

    /// `GET /v1/experiments/{name}/lift[?metric=M…&since=T&until=T&format=json|csv|html]`: the
    /// report `prescore report lift --experiment` prints, JSON by default.
    static func lift(_ service: ScoreService, name: String, query: Parameters, pool: PostgresPool?) async
        -> Response
    {
        guard let pool, let served = service.jobs.values.first(where: { $0.experiment?.name == name }),
            let experiment = served.experiment
        else { return Problem.response(.notFound, "no job served here runs an experiment named \(name)") }
        let metrics = query.getAll("metric").map { String($0) }
        if let bad = metrics.first(where: { !Outcome.isValidMetric($0) }) {
            return Problem.response(.badRequest, "metric '\(bad)' is not a metric name (a-z, 0-9 and '_')")
        }
        var window: [String: Date] = [:]
        for field in ["since", "until"] {
            guard let text = query.get(field) else { continue }
            guard let time = TimeText.parse(text) else {
                return Problem.response(
                    .badRequest, "\(field) '\(text)' is not a time such as 2026-12-01T10:00:00Z")
            }
            window[field] = time
        }
        let format = query.get("format") ?? "json"
        guard ["json", "csv", "html"].contains(format) else {
            return Problem.response(.badRequest, "format must be json, csv or html")
        }
        let liftQuery = LiftQuery(
            experiment: experiment, job: served.job.name, metrics: metrics, since: window["since"],
            until: window["until"] ?? Date())
        let report: LiftReport
        do {
            report = try await BlockingExecutor.shared.run("prescore-lift") {
                try pool.withConnection { try liftQuery.report(on: $0.connection) }
            }
        } catch let error as CoreError {
            return Problem.response(.unprocessableContent, "experiment \(name): \(error.message)")
        } catch {
            return Problem.response(
                .serviceUnavailable, "the report could not be made (PostgreSQL: \(error))", retryAfter: 5)
        }
        let (text, type): (String, String) =
            switch format {
            case "csv": (report.csv, "text/csv; charset=utf-8")
            case "html":
                (
                    report.html(title: "Lift of experiment \(name) (job \(served.job.name))"),
                    "text/html; charset=utf-8"
                )
            default: (report.json, "application/json")
            }
        return Response(
            status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
