import PrescoreCore

/// What a job keeps in Redis and for how long: published and kept runs never expire, older runs
/// are trimmed, and the keys of runs that never publish are removed (or expire with `output.ttl`,
/// the safety net for a writer that vanished).
extension ScoreStore {
    /// Removes the expiry of every key of run `runID` (its facts, then its `buckets` score hashes
    /// in order), in short pipelined steps. Called before the run publishes, so that published and
    /// kept scores never expire. The facts go first: a process that dies halfway leaves a run whose
    /// facts stay, so a later sweep still finds and removes every key; its last bucket still
    /// expiring says the persist did not finish. Idempotent.
    public func persist(_ runID: Int64, buckets: Int) throws(RedisError) {
        try connection.command("PERSIST", layout.runKey(runID))
        try forEachBucketStep(of: runID, buckets: buckets, .persist)
    }

    /// Persists the published and kept runs whose keys still expire: runs published before
    /// published runs stopped expiring, or whose persist was cut short. Costs two TTL reads per
    /// kept run when there are none. Returns the runs persisted.
    @discardableResult
    public func persistKeptRuns() throws(RedisError) -> [Int64] {
        var runs = try keptRuns()
        if let current = try published()?.runID, !runs.contains(current) { runs.append(current) }
        var persisted: [Int64] = []
        for runID in runs {
            guard let facts = try run(runID) else { continue }
            let lastBucket = layout.bucketKey(run: runID, bucket: max(0, facts.buckets - 1))
            let factsExpire = try connection.command("TTL", layout.runKey(runID)).integer ?? -1 >= 0
            let bucketsExpire = try connection.command("TTL", lastBucket).integer ?? -1 >= 0
            guard factsExpire || bucketsExpire else { continue }
            try persist(runID, buckets: facts.buckets)
            persisted.append(runID)
        }
        return persisted
    }

    /// Keeps the published run and the newest `keepRuns − 1` other kept runs; removes the rest and
    /// the runs a rollback rejected, keys included (`RunRetention.trim` decides). Returns the
    /// removed run ids.
    @discardableResult
    public func trim(keepRuns: Int) throws(RedisError) -> [Int64] {
        let rejected = try members(of: layout.rejectedRunsKey)
        let doomed = RunRetention.trim(
            kept: try keptRuns(), rejected: rejected, published: try published()?.runID, keepRuns: keepRuns)
        guard !doomed.isEmpty else { return [] }
        // Removes only what was decided, and never the run published by the time this runs.
        let script = """
            local current = redis.call('HGET', KEYS[1], 'run')
            local removed = {}
            for _, member in ipairs(ARGV) do
                if member ~= current then
                    if redis.call('ZREM', KEYS[2], member) + redis.call('ZREM', KEYS[3], member) > 0 then
                        table.insert(removed, member)
                    end
                end
            end
            return removed
            """
        let reply = try evaluate(
            script, keys: [layout.pointerKey, layout.keptRunsKey, layout.rejectedRunsKey],
            arguments: doomed.map(String.init))
        guard case .array(let items) = reply else { throw connection.unexpectedReply(reply, to: "trim") }
        let removed = items.compactMap { $0.string.flatMap { Int64($0) } }
        for runID in removed { try deleteRun(runID) }
        return removed
    }

    /// Removes every key of run `runID` in short UNLINK steps. `buckets` is the run's bucket count
    /// when known; otherwise it is read from the run's facts, and when those are gone too, the keys
    /// are found with SCAN (`PREFIX:JOB:s:RUN:*`, which no other job's keys can match: see
    /// `JobFileParser.isValidPrefix`).
    public func deleteRun(_ runID: Int64, buckets: Int? = nil) throws(RedisError) {
        var count = buckets
        if count == nil { count = try run(runID)?.buckets }
        if let count {
            try forEachBucketStep(of: runID, buckets: count, .unlink)
        } else {
            try connection.scan(matching: layout.bucketKeyStem(run: runID) + "*") { keys throws(RedisError) in
                try connection.command([Array("UNLINK".utf8)] + keys.map { Array($0.utf8) })
            }
        }
        try connection.command("UNLINK", layout.runKey(runID))
    }

    /// Removes what processes that died mid-run left behind (`RunRetention.abandoned` decides:
    /// older than every kept run, neither kept nor published, not in `live`, the runs and attempts
    /// PostgreSQL records as open). A run that is still writing is never removed under it. Returns
    /// the removed run ids.
    @discardableResult
    public func sweepAbandonedRuns(live: Set<Int64>) throws(RedisError) -> [Int64] {
        var runs: [Int64] = []
        let prefix = layout.runKeyPattern.dropLast()  // without the trailing `*`
        try connection.scan(matching: layout.runKeyPattern) { keys in
            runs += keys.compactMap { Int64($0.dropFirst(prefix.count)) }
        }
        let abandoned = RunRetention.abandoned(
            runs: runs, kept: Set(try keptRuns()), published: try published()?.runID, live: live)
        for runID in abandoned { try deleteRun(runID) }
        return abandoned
    }

    private enum BucketCommand {
        /// `UNLINK KEY…`: many keys a command.
        case unlink
        /// `PERSIST KEY`: one key a command, pipelined.
        case persist
    }

    /// Sends `command` for the run's bucket keys, `unlinkStep` keys a pipeline.
    private func forEachBucketStep(of runID: Int64, buckets: Int, _ command: BucketCommand) throws(RedisError)
    {
        let stem = Array(layout.bucketKeyStem(run: runID).utf8)
        var start = 0
        while start < buckets {
            let end = min(start + Self.unlinkStep, buckets)
            var buffer = RESPCommandBuffer()
            switch command {
            case .unlink:
                buffer.beginCommand(argumentCount: 1 + end - start)
                buffer.appendArgument("UNLINK")
                for bucket in start..<end { buffer.appendArgument(stem, suffix: bucket) }
            case .persist:
                for bucket in start..<end {
                    buffer.beginCommand(argumentCount: 2)
                    buffer.appendArgument("PERSIST")
                    buffer.appendArgument(stem, suffix: bucket)
                }
            }
            try check(connection.pipeline(buffer))
            start = end
        }
    }
}
