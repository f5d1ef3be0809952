import PrescoreCore

/// A job's scores in Redis, by the layout of `ScoreLayout`: the run registry, the atomic publish,
/// rollback, removal of old and failed runs, and reading one score.
///
/// Every multi-key change is one Lua script, so a reader never sees a half-switched pointer and two
/// processes cannot interleave a publish.
public struct ScoreStore: Sendable {
    public let connection: RedisConnection
    public let layout: ScoreLayout

    /// Keys removed per UNLINK: UNLINK frees memory in a background thread, and small steps keep
    /// every command short for the other clients of a shared Redis.
    static let unlinkStep = 500

    public init(connection: RedisConnection, layout: ScoreLayout) {
        self.connection = connection
        self.layout = layout
    }

    /// The published run, or nil when the job has none.
    public func published() throws(RedisError) -> PublishedRun? {
        try hash(layout.pointerKey).flatMap(PublishedRun.init(fields:))
    }

    /// The facts of run `runID`, or nil when Redis has none (never written, removed or expired).
    public func run(_ runID: Int64) throws(RedisError) -> PublishedRun? {
        try hash(layout.runKey(runID)).flatMap(PublishedRun.init(fields:))
    }

    /// Records a run before its first score, with the same TTL as its scores, so that its keys can
    /// be found and removed whatever happens to the process that writes them.
    public func register(_ run: PublishedRun, ttl: Duration) throws(RedisError) {
        var buffer = RESPCommandBuffer()
        buffer.append(command: ["HSET", layout.runKey(run.runID)] + run.fields.flatMap { [$0.0, $0.1] })
        buffer.append(command: ["EXPIRE", layout.runKey(run.runID), String(ttl.components.seconds)])
        try check(connection.pipeline(buffer))
    }

    /// Why a publish was refused.
    public enum Refusal: Sendable, Equatable {
        /// A run with an id at least as high was published: the id.
        case newerRun(Int64)
        /// A newer attempt of the same scheduled run holds the fence: its token.
        case fenced(byAttempt: Int64)
    }

    /// Raises the fence of scheduled run `runID` to `token` (never lowers it), before the attempt
    /// with that token writes anything: from then on an older attempt of the run, whose scheduler
    /// lost the lease without knowing, cannot publish.
    public func raiseFence(runID: Int64, token: Int64, ttl: Duration) throws(RedisError) {
        let script = """
            local fence = tonumber(redis.call('GET', KEYS[1]) or '0')
            if tonumber(ARGV[1]) > fence then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
            return 0
            """
        _ = try evaluate(
            script, keys: [layout.fenceKey(runID)],
            arguments: [String(token), String(ttl.components.seconds)])
    }

    /// Switches the pointer to `run` when no run with an id as high has been published: the
    /// compare-and-set that keeps a slow or stale run from replacing a newer one. Returns nil when
    /// published, else why not.
    ///
    /// The comparison is against `high`, the highest run id ever published, not the pointer's
    /// current run: after a rollback, a run older than the rolled-back one still cannot publish.
    /// With `fence` (the scheduled run this attempt belongs to), the run's fence must also hold
    /// this attempt's token; once published the fence is dropped, since `high` then refuses every
    /// older attempt anyway.
    public func publish(_ run: PublishedRun, fence: Int64? = nil) throws(RedisError) -> Refusal? {
        let script = """
            local high = tonumber(redis.call('HGET', KEYS[1], 'high') or '0')
            if tonumber(ARGV[1]) <= high then return high end
            if KEYS[4] ~= '' then
                local fence = redis.call('GET', KEYS[4])
                if fence and tonumber(fence) ~= tonumber(ARGV[1]) then return -tonumber(fence) end
                redis.call('DEL', KEYS[4])
            end
            redis.call('HSET', KEYS[3], 'rows', ARGV[5])
            redis.call('HSET', KEYS[1], 'run', ARGV[1], 'buckets', ARGV[2], 'model_version', ARGV[3],
                'computed_at', ARGV[4], 'rows', ARGV[5], 'high', ARGV[1])
            redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
            redis.call('PUBLISH', ARGV[6], KEYS[1])
            return 0
            """
        let keys = [
            layout.pointerKey, layout.keptRunsKey, layout.runKey(run.runID), fence.map(layout.fenceKey) ?? "",
        ]
        let reply = try evaluate(
            script, keys: keys, arguments: run.fields.map(\.1) + [ScoreLayout.publishChannel])
        guard let code = reply.integer else { throw connection.unexpectedReply(reply, to: "publish") }
        return code == 0 ? nil : code > 0 ? .newerRun(code) : .fenced(byAttempt: -code)
    }

    /// Whether run `runID` is the published one or kept for rollback: such a run's keys are
    /// never removed by a cleanup.
    public func isPublishedOrKept(_ runID: Int64) throws(RedisError) -> Bool {
        if try published()?.runID == runID { return true }
        return try connection.command("ZSCORE", layout.keptRunsKey, String(runID)).string != nil
    }

    /// Published runs kept for rollback, newest first.
    public func keptRuns() throws(RedisError) -> [Int64] {
        try members(of: layout.keptRunsKey)
    }

    /// The run ids in sorted set `key`, newest first.
    func members(of key: String) throws(RedisError) -> [Int64] {
        let reply = try connection.command("ZREVRANGE", key, "0", "-1")
        guard case .array(let members) = reply else {
            throw connection.unexpectedReply(reply, to: "ZREVRANGE")
        }
        return members.compactMap { $0.string.flatMap { Int64($0) } }
    }

    /// Points the job back at a kept run: `runID`, or by default the newest kept run older than the
    /// published one. The compare-and-set mark (`high`) stays, so a stale run still cannot publish.
    /// The kept runs newer than the target are rejected: they leave the kept runs (no later
    /// rollback lands on them, and they take no place of `keep_runs`) and are removed by the next
    /// publish, while the target stays kept until `keep_runs` newer runs have been published.
    /// Until that publish, a rejected run can still be named as `runID` (undoing a rollback).
    public func rollback(to runID: Int64? = nil) throws(RedisError) -> PublishedRun {
        let kept = try keptRuns()
        let current = try published()?.runID
        guard let target = runID ?? kept.first(where: { current == nil || $0 < current! }) else {
            throw RedisError(
                .refused,
                "job \(layout.job) has no kept run older than the published one"
                    + (current.map { " (\($0))" } ?? "") + "; kept runs: \(Self.list(kept))",
                server: connection.url.description)
        }
        let script = """
            local rejected = redis.call('ZSCORE', KEYS[4], ARGV[1])
            if not redis.call('ZSCORE', KEYS[2], ARGV[1]) and not rejected then return 'not kept' end
            local facts = redis.call('HGETALL', KEYS[3])
            if #facts == 0 then return 'gone' end
            if rejected then
                redis.call('ZREM', KEYS[4], ARGV[1])
                redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
            end
            redis.call('HSET', KEYS[1], unpack(facts))
            for _, newer in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf')) do
                redis.call('ZREM', KEYS[2], newer)
                redis.call('ZADD', KEYS[4], newer, newer)
            end
            redis.call('PUBLISH', ARGV[2], KEYS[1])
            return 'ok'
            """
        let reply = try evaluate(
            script,
            keys: [layout.pointerKey, layout.keptRunsKey, layout.runKey(target), layout.rejectedRunsKey],
            arguments: [String(target), ScoreLayout.publishChannel])
        guard reply.string == "ok", let run = try published() else {
            let why = reply.string == "gone" ? "its keys have expired" : "it is not kept"
            throw RedisError(
                .refused,
                "cannot roll job \(layout.job) back to run \(target): \(why); kept runs: \(Self.list(kept))",
                server: connection.url.description)
        }
        return run
    }

    /// The published score of `key` (an integer key as its decimal text) and the run it comes from,
    /// or nil when the job has no published run or the key no score in it.
    public func score(forKey key: String) throws(RedisError) -> (score: Float, run: PublishedRun)? {
        guard let run = try published() else { return nil }
        let reply = try connection.command("HGET", layout.bucketKey(ofKey: key, in: run), key)
        guard case .bulk(let bytes) = reply, let score = ScoreLayout.decode(bytes) else { return nil }
        return (score, run)
    }

    // MARK: - Helpers

    func hash(_ key: String) throws(RedisError) -> [String: String]? {
        let reply = try connection.command("HGETALL", key)
        guard let fields = reply.hashFields else { throw connection.unexpectedReply(reply, to: "HGETALL") }
        return fields.isEmpty ? nil : fields
    }

    func evaluate(_ script: String, keys: [String], arguments: [String]) throws(RedisError)
        -> RedisReply
    {
        let reply = try connection.command(
            (["EVAL", script, String(keys.count)] + keys + arguments).map { Array($0.utf8) })
        if case .error(let message) = reply {
            throw RedisError(.commandFailed, message, server: connection.url.description)
        }
        return reply
    }

    func check(_ errors: [(index: Int, message: String)]) throws(RedisError) {
        if let first = errors.first {
            throw RedisError(.commandFailed, first.message, server: connection.url.description)
        }
    }

    private static func list(_ runs: [Int64]) -> String {
        runs.isEmpty ? "none" : runs.map(String.init).joined(separator: ", ")
    }
}
