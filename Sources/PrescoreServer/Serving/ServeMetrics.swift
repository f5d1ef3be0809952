import Foundation
import Metrics
import PrescoreCore

/// `prescore serve`'s metrics through swift-metrics (Prometheus at `/metrics`). Handles are made
/// once at start-up per job, route and source: looking a metric up by its labels on every request
/// would cost more than the Redis round trip it measures.
///
/// - `prescore_http_request_duration_seconds{route,source}` histogram (its `_count` is the request
///   count), `route` `score` or `batch`, `source` `batch`, `realtime`, `default` or `none` (an error
///   or a miss without an answer);
/// - `prescore_score_hits_total{job}`, `prescore_score_misses_total{job}`;
/// - `prescore_fallback_total{job,outcome}`: `scored`, `not_found`, `failed`, `timeout`,
///   `rejected_breaker`, `rejected_bulkhead`;
/// - `prescore_breaker_state{job}` (0 closed, 1 open, 2 half-open);
/// - `prescore_pg_pool_in_use`, `prescore_pg_pool_waiting`;
/// - `prescore_score_age_seconds{job}`: age of the published run, updated at each scrape.
final class ServeMetrics: Sendable {
    enum Route: String, CaseIterable, Sendable { case score, batch }

    enum FallbackOutcome: String, CaseIterable, Sendable {
        case scored
        case notFound = "not_found"
        case failed, timeout
        case rejectedBreaker = "rejected_breaker"
        case rejectedBulkhead = "rejected_bulkhead"
    }

    static let sources = ScoreAnswer.Source.allCases.map(\.rawValue) + ["none"]

    /// By route, then by source (`sources` order): found by index, not by building a key.
    private let latency: [[Metrics.Timer]]
    private let hits: [String: Counter]
    private let misses: [String: Counter]
    private let fallbacks: [String: Counter]
    private let breakerState: [String: Gauge]
    private let scoreAge: [String: Gauge]
    let poolInUse = Gauge(label: "prescore_pg_pool_in_use")
    let poolWaiting = Gauge(label: "prescore_pg_pool_waiting")

    init(jobs: [String]) {
        latency = Route.allCases.map { route in
            Self.sources.map { source in
                Metrics.Timer(
                    label: "prescore_http_request_duration_seconds",
                    dimensions: [("route", route.rawValue), ("source", source)])
            }
        }
        func perJob(_ label: String) -> [String: Counter] {
            Dictionary(
                uniqueKeysWithValues: jobs.map { ($0, Counter(label: label, dimensions: [("job", $0)])) })
        }
        hits = perJob("prescore_score_hits_total")
        misses = perJob("prescore_score_misses_total")
        var fallbacks: [String: Counter] = [:]
        for job in jobs {
            for outcome in FallbackOutcome.allCases {
                fallbacks["\(job)/\(outcome.rawValue)"] = Counter(
                    label: "prescore_fallback_total",
                    dimensions: [("job", job), ("outcome", outcome.rawValue)])
            }
        }
        self.fallbacks = fallbacks
        breakerState = Dictionary(
            uniqueKeysWithValues: jobs.map {
                ($0, Gauge(label: "prescore_breaker_state", dimensions: [("job", $0)]))
            })
        scoreAge = Dictionary(
            uniqueKeysWithValues: jobs.map {
                ($0, Gauge(label: "prescore_score_age_seconds", dimensions: [("job", $0)]))
            })
        for gauge in breakerState.values { gauge.record(0) }
    }

    /// `source` nil: an error, or a miss without an answer (`none`).
    func request(_ route: Route, source: ScoreAnswer.Source?, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let sourceIndex =
            source.flatMap { ScoreAnswer.Source.allCases.firstIndex(of: $0) } ?? Self.sources.count - 1
        latency[route == .score ? 0 : 1][sourceIndex].recordNanoseconds(
            elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }

    func hit(_ job: String) { hits[job]?.increment() }
    func miss(_ job: String) { misses[job]?.increment() }
    func fallback(_ job: String, _ outcome: FallbackOutcome) {
        fallbacks["\(job)/\(outcome.rawValue)"]?.increment()
    }
    func breaker(_ job: String, _ state: CircuitBreaker.State) { breakerState[job]?.record(state.gaugeValue) }
    func age(_ job: String, seconds: Double) { scoreAge[job]?.record(seconds) }
}
