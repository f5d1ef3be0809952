import Foundation
import PrescoreCore
import PrescoreRedis
import Synchronization

/// Each job's published run (`PREFIX:JOB:current`), kept in the process so that a hit costs one
/// Redis round trip. A publish or rollback announces itself on `ScoreLayout.publishChannel` and
/// the entry is dropped at once (`invalidate`); `ttl` is the safety net for a missed message.
final class PointerCache: Sendable {
    private struct Entry {
        var run: PublishedRun?
        var fetched: ContinuousClock.Instant
    }

    let redis: NIORedisClient
    let ttl: Duration
    private let entries = Mutex<[String: Entry]>([:])

    init(redis: NIORedisClient, ttl: Duration) {
        self.redis = redis
        self.ttl = ttl
    }

    /// The published run of the job whose pointer key is `pointerKey`; nil when none is published.
    func published(_ pointerKey: String) async throws -> PublishedRun? {
        let now = ContinuousClock.now
        if let entry = freshEntry(pointerKey, now: now) { return entry.run }
        let reply = try await redis.command(["HGETALL", pointerKey])
        guard let fields = reply.hashFields else {
            throw RedisError(
                .commandFailed, "HGETALL \(pointerKey) answered \(reply)", server: redis.url.description)
        }
        let run = PublishedRun(fields: fields)
        entries.withLock { $0[pointerKey] = Entry(run: run, fetched: now) }
        return run
    }

    /// The published run cached for `pointerKey` when the entry is younger than `ttl`: what the
    /// event loop may use without asking Redis. Nil when no run is published or the entry is
    /// missing or old (the full path then fetches it).
    func fresh(_ pointerKey: String) -> PublishedRun? {
        freshEntry(pointerKey, now: .now)?.run
    }

    /// The entry for `pointerKey` while it is younger than `ttl`.
    private func freshEntry(_ pointerKey: String, now: ContinuousClock.Instant) -> Entry? {
        entries.withLock { entries in
            guard let entry = entries[pointerKey], now - entry.fetched < ttl else { return nil }
            return entry
        }
    }

    /// What is cached for `pointerKey`, however old (for the score-age gauge).
    func cached(_ pointerKey: String) -> PublishedRun? {
        entries.withLock { $0[pointerKey]?.run }
    }

    func invalidate(_ pointerKey: String) {
        _ = entries.withLock { $0.removeValue(forKey: pointerKey) }
    }

    func invalidateAll() {
        entries.withLock { $0.removeAll() }
    }
}
