import Hummingbird

/// The HTTP responder of `serve`: `GET /v1/scores/{job}/{key}`, the hot route, is matched by hand;
/// every other request goes to the router. Resolving a path through Hummingbird's router trie cost
/// about 5% of `serve`'s CPU a hit (perf, 64 connections) for a route whose shape is fixed.
struct ScoreRouteResponder<Fallback: HTTPResponder<BasicRequestContext>>: HTTPResponder {
    typealias Context = BasicRequestContext

    let service: ScoreService
    let router: Fallback

    func respond(to request: Request, context: Context) async throws -> Response {
        guard request.method == .get, let (job, rawKey) = ScorePath.parse(request.uri.path) else {
            return try await router.respond(to: request, context: context)
        }
        let start = ContinuousClock.now
        let (response, source) = await ServeApplication.score(service, job: job, rawKey: rawKey)
        service.metrics.request(.score, source: source, since: start)
        return response
    }
}
