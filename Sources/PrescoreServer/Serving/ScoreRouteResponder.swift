import Hummingbird

/// The HTTP responder of `serve`: `GET /v1/scores/{job}/{key}`, the hot route, is matched by hand;
/// every other request goes to the router. Resolving a path through Hummingbird's router trie cost
/// about 5% of `serve`'s CPU a hit (perf, 64 connections) for a route whose shape is fixed.
struct ScoreRouteResponder<Fallback: HTTPResponder<BasicRequestContext>>: HTTPResponder {
    typealias Context = BasicRequestContext

    let service: ScoreService
    let router: Fallback

    func respond(to request: Request, context: Context) async throws -> Response {
        guard request.method == .get, let (job, rawKey) = Self.scorePath(request.uri.path) else {
            return try await router.respond(to: request, context: context)
        }
        let start = ContinuousClock.now
        let (response, source) = await ServeApplication.score(service, job: job, rawKey: rawKey)
        service.metrics.request(.score, source: source, since: start)
        return response
    }

    /// `job` and the still percent-encoded key of `/v1/scores/{job}/{key}`: both non-empty, nothing
    /// after them. Any other path is the router's (which answers 404 where nothing matches).
    static func scorePath(_ path: String) -> (job: String, key: String)? {
        let prefix = "/v1/scores/"
        guard path.hasPrefix(prefix) else { return nil }
        let rest = path.utf8.dropFirst(prefix.utf8.count)
        guard let slash = rest.firstIndex(of: UInt8(ascii: "/")) else { return nil }
        let job = rest[..<slash]
        let key = rest[rest.index(after: slash)...]
        guard !job.isEmpty, !key.isEmpty, !key.contains(UInt8(ascii: "/")) else { return nil }
        return (String(Substring(job)), String(Substring(key)))
    }
}
