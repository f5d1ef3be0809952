/// The path of the hot route, `/v1/scores/{job}/{key}`, matched by hand (by `ScoreRouteResponder`
/// and `ScoreHitHandler`).
enum ScorePath {
    /// `job` and the still percent-encoded key of `/v1/scores/{job}/{key}`: both non-empty, nothing
    /// after them. Any other path is the router's (which answers 404 where nothing matches).
    static func parse(_ path: String) -> (job: String, key: String)? {
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
