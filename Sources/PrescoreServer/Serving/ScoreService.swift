import Foundation
import NIOCore
import PrescoreCore
import PrescoreJobs
import PrescoreRedis

/// Scores by key: the published run's bucket in Redis (one round trip: the pointer is cached),
/// then, on a miss, the job's realtime fallback, then `on_failure`. Keys are only ever hash fields
/// and bound parameters.
final class ScoreService: Sendable {
    struct ServedJob: Sendable {
        let job: LoadedJob
        let layout: ScoreLayout
        let fallback: RealtimeFallback?
        var experiment: Experiment? { job.definition.experiment }
    }

    /// What a lookup found, as the HTTP layer answers it.
    enum Lookup: Sendable, Equatable {
        case answer(ScoreAnswer)
        /// 404: the key has no score and the fallback (if any) found no entity.
        case notFound(String)
        /// 503 with `Retry-After` seconds: the fallback could not answer (`on_failure: error`) or
        /// Redis cannot be reached.
        case unavailable(String, retryAfter: Int)

        var source: ScoreAnswer.Source? {
            if case .answer(let answer) = self { return answer.source }
            return nil
        }
    }

    let jobs: [String: ServedJob]
    let redis: NIORedisClient
    let pointers: PointerCache
    let metrics: ServeMetrics
    /// Records what jobs in an experiment answered (nil when no job has one).
    let exposures: ExposureRecorder?

    init(
        jobs: [String: ServedJob], redis: NIORedisClient, pointers: PointerCache, metrics: ServeMetrics,
        exposures: ExposureRecorder?
    ) {
        self.jobs = jobs
        self.redis = redis
        self.pointers = pointers
        self.metrics = metrics
        self.exposures = exposures
    }

    /// One key. In an experiment, an entity of arm `realtime` is scored fresh by the fallback,
    /// and the answer is recorded as an exposure.
    func score(_ served: ServedJob, key: String) async -> Lookup {
        guard let experiment = served.experiment else { return await stored(served, key: key) }
        let start = ContinuousClock.now
        let arm = experiment.arm(of: key)
        let lookup = arm == .realtime ? await miss(served, key: key) : await stored(served, key: key)
        expose(lookup, key: key, arm: arm, of: served, since: start)
        return lookup
    }

    /// The pointer (cached) and one `HGET`; on a miss, the fallback.
    private func stored(_ served: ServedJob, key: String) async -> Lookup {
        let job = served.job.definition
        do {
            if let run = try await pointers.published(served.layout.pointerKey) {
                let reply = try await redis.command("HGET", served.layout.bucketKey(ofKey: key, in: run), key)
                if let answer = hit(served, key: key, run: run, reply: reply) { return .answer(answer) }
            }
        } catch {
            return .unavailable("Redis cannot be reached: \(error)", retryAfter: 1)
        }
        metrics.miss(job.name)
        return await miss(served, key: key)
    }

    /// The answer when `reply` (an `HGET` of `key` in `run`) holds its score, counted as a hit;
    /// nil otherwise. Shared by this path and the event loop's (`ScoreHitHandler`).
    func hit(_ served: ServedJob, key: String, run: PublishedRun, reply: RedisReply) -> ScoreAnswer? {
        guard case .bulk(let bytes) = reply, let score = ScoreLayout.decode(bytes) else { return nil }
        let job = served.job.definition
        metrics.hit(job.name)
        return .batch(job: job, key: key, score: score, run: run, now: Date())
    }

    /// Every key's lookup, in order: the hits in one Redis round trip (`HMGET` per bucket, all
    /// pipelined), the misses (and an experiment's `realtime` arm) through the fallback
    /// concurrently.
    func scores(_ served: ServedJob, keys: [String]) async -> [Lookup] {
        let start = ContinuousClock.now
        let arms = served.experiment.map { experiment in keys.map { experiment.arm(of: $0) } }
        let lookups = await stored(served, keys: keys, fresh: arms.map { $0.map { $0 == .realtime } })
        if let arms {
            for index in keys.indices {
                expose(lookups[index], key: keys[index], arm: arms[index], of: served, since: start)
            }
        }
        return lookups
    }

    private func stored(_ served: ServedJob, keys: [String], fresh: [Bool]?) async -> [Lookup] {
        let job = served.job.definition
        let run: PublishedRun?
        var found: [Float?]
        do {
            run = try await pointers.published(served.layout.pointerKey)
            found = try await read(keys, skipping: fresh, of: run, layout: served.layout)
        } catch {
            return keys.map { _ in .unavailable("Redis cannot be reached: \(error)", retryAfter: 1) }
        }
        var results = [Lookup?](repeating: nil, count: keys.count)
        var misses: [Int] = []
        let now = Date()
        for (index, score) in found.enumerated() {
            if fresh?[index] == true {
                misses.append(index)
            } else if let score, let run {
                metrics.hit(job.name)
                results[index] = .answer(.batch(job: job, key: keys[index], score: score, run: run, now: now))
            } else {
                metrics.miss(job.name)
                misses.append(index)
            }
        }
        found = []
        guard !misses.isEmpty else { return results.map { $0! } }
        await withTaskGroup(of: (Int, Lookup).self) { group in
            for index in misses {
                group.addTask { (index, await self.miss(served, key: keys[index])) }
            }
            for await (index, lookup) in group { results[index] = lookup }
        }
        return results.map { $0! }
    }

    /// The scores of `keys` in `run` (nil where absent or skipped, or all nil without a published
    /// run).
    private func read(_ keys: [String], skipping: [Bool]?, of run: PublishedRun?, layout: ScoreLayout)
        async throws -> [Float?]
    {
        guard let run else { return keys.map { _ in nil } }
        var byBucket: [Int: [Int]] = [:]
        for (index, key) in keys.enumerated() where skipping?[index] != true {
            byBucket[ScoreLayout.bucket(ofKey: key.utf8, bucketCount: run.buckets), default: []].append(index)
        }
        let buckets = Array(byBucket.keys)
        let commands = buckets.map { bucket -> [[UInt8]] in
            [Array("HMGET".utf8), Array(layout.bucketKey(run: run.runID, bucket: bucket).utf8)]
                + byBucket[bucket]!.map { Array(keys[$0].utf8) }
        }
        guard !commands.isEmpty else { return keys.map { _ in nil } }
        let replies = try await redis.pipeline(commands)
        var scores = [Float?](repeating: nil, count: keys.count)
        for (bucket, reply) in zip(buckets, replies) {
            guard case .array(let values) = reply else {
                throw RedisError(.commandFailed, "HMGET answered \(reply)", server: redis.url.description)
            }
            for (index, value) in zip(byBucket[bucket]!, values) {
                if case .bulk(let bytes) = value { scores[index] = ScoreLayout.decode(bytes) }
            }
        }
        return scores
    }

    private func miss(_ served: ServedJob, key: String) async -> Lookup {
        await withCheckedContinuation { continuation in
            miss(served, key: key) { continuation.resume(returning: $0) }
        }
    }

    /// `miss`, for a caller on an event loop (`ScoreHitHandler`): `reply` runs once, on any thread.
    func miss(_ served: ServedJob, key: String, reply: @escaping @Sendable (Lookup) -> Void) {
        guard let fallback = served.fallback else {
            return reply(.notFound("job \(served.job.name) has no score for this key"))
        }
        fallback.answer(key) { [self] answer in
            reply(lookup(answer, of: served, key: key, fallback: fallback))
        }
    }

    /// What the fallback's answer is to the client: `realtime.on_failure` decides for a failure.
    private func lookup(
        _ answer: RealtimeFallback.Answer, of served: ServedJob, key: String, fallback: RealtimeFallback
    )
        -> Lookup
    {
        let job = served.job
        switch answer {
        case .scored(let score, let cpuMicros):
            let now = Date().timeIntervalSince1970
            return .answer(
                ScoreAnswer(
                    job: job.name, key: key, score: score, modelVersion: job.scorer.version ?? "unversioned",
                    runID: nil, computedAt: now, ageSeconds: 0, source: .realtime, stale: false,
                    cpuMicros: cpuMicros))
        case .notFound:
            return .notFound("job \(job.name) has no entity with this key")
        case .unavailable(let reason):
            switch fallback.settings.onFailure {
            case .defaultScore(let score):
                return .answer(
                    ScoreAnswer(
                        job: job.name, key: key, score: score, modelVersion: nil, runID: nil,
                        computedAt: Date().timeIntervalSince1970, ageSeconds: 0, source: .default,
                        stale: false))
            case .error:
                return .unavailable(
                    "the realtime fallback could not answer: \(reason)", retryAfter: retryAfter(fallback))
            }
        }
    }

    /// Records an answer given to an entity in an experiment (an error is no exposure).
    private func expose(
        _ lookup: Lookup, key: String, arm: Experiment.Arm, of served: ServedJob,
        since start: ContinuousClock.Instant
    ) {
        guard case .answer(let answer) = lookup, let exposures, let experiment = served.experiment else {
            return
        }
        let elapsed = ContinuousClock.now - start
        exposures.record(
            Exposure(
                experiment: experiment.name, job: served.job.name, arm: arm, key: key, score: answer.score,
                source: answer.source.rawValue,
                latencyMicros: Int(elapsed.components.seconds) * 1_000_000
                    + Int(elapsed.components.attoseconds / 1_000_000_000_000),
                scoreAgeSeconds: answer.ageSeconds, cpuMicros: answer.cpuMicros,
                at: Date().timeIntervalSince1970))
    }

    /// Seconds until the breaker lets calls through again, at least 1.
    private func retryAfter(_ fallback: RealtimeFallback) -> Int {
        guard case .open(let until) = fallback.breakerState else { return 1 }
        return max(1, Int(until.timeIntervalSinceNow.rounded(.up)))
    }

    /// Writes a realtime score into the published run's bucket, so the next read is a hit. Not
    /// awaited: the answer does not wait for it, and a failed write-back costs only a later miss.
    static func writeBack(
        _ key: String, _ score: Float, layout: ScoreLayout, pointers: PointerCache, redis: NIORedisClient
    ) {
        guard let run = pointers.cached(layout.pointerKey) else { return }
        _ = redis.send([
            [
                Array("HSET".utf8), Array(layout.bucketKey(ofKey: key, in: run).utf8), Array(key.utf8),
                ScoreLayout.encode(score),
            ]
        ])
    }
}
