import PrescoreCore
import PrescoreTestSupport
import Testing

@testable import PrescoreRedis

/// The publish, rollback and cleanup rules on the real Redis; each test has a key prefix of its own.
@Suite struct ScoreStoreTests {
    let store: ScoreStore

    init() throws {
        let connection = try RedisConnection(url: RedisURL(TestServers.redisURL))
        store = ScoreStore(
            connection: connection, layout: ScoreLayout(prefix: TestServers.uniqueName("t"), job: "job"))
    }

    /// Registers run `id` with one bucket holding `key` → `score`, as the batch writer would.
    func write(_ id: Int64, key: String = "42", score: Float = 0.5, rows: Int = 1) throws -> PublishedRun {
        let run = PublishedRun(
            runID: id, buckets: 1, modelVersion: "v\(id)", computedAt: 1_000 + id, rows: rows)
        try store.register(run, ttl: .seconds(600))
        var buffer = RESPCommandBuffer()
        buffer.beginCommand(argumentCount: 4)
        buffer.appendArgument("HSET")
        buffer.appendArgument(Array(store.layout.bucketKeyStem(run: id).utf8), suffix: 0)
        buffer.appendArgument(key)
        buffer.appendArgument(ScoreLayout.encode(score))
        buffer.append(command: ["EXPIRE", store.layout.bucketKey(run: id, bucket: 0), "600"])
        #expect(try store.connection.pipeline(buffer).isEmpty)
        return run
    }

    @Test func aStaleAttemptCannotPublishOnceItsSuccessorRaisedTheFence() throws {
        // Scheduled run 10: attempt 1 writes as 10, its scheduler loses the lease, attempt 2 takes
        // over as token 11. Whichever finishes first, only attempt 2 may publish.
        try store.raiseFence(runID: 10, token: 10, ttl: .seconds(60))
        let first = try write(10, score: 0.1)
        try store.raiseFence(runID: 10, token: 11, ttl: .seconds(60))
        try store.raiseFence(runID: 10, token: 10, ttl: .seconds(60))  // a late raise never lowers it
        let second = try write(11, score: 0.2)
        #expect(try store.publish(first, fence: 10) == .fenced(byAttempt: 11))
        #expect(try store.published() == nil)
        #expect(try store.publish(second, fence: 10) == nil)
        #expect(try store.published()?.runID == 11)
        #expect(try store.connection.command("EXISTS", store.layout.fenceKey(10)).integer == 0)
        #expect(try store.publish(first, fence: 10) == .newerRun(11))
    }

    func keyCount() throws -> Int {
        var count = 0
        try store.connection.scan(matching: "\(store.layout.prefix):*") { count += $0.count }
        return count
    }

    @Test func publishIsACompareAndSetOnTheRunID() throws {
        #expect(try store.published() == nil)
        #expect(try store.score(forKey: "42") == nil)
        let second = try write(2, score: 0.25)
        #expect(try store.publish(second) == nil)
        let stale = try write(1, score: 0.75)
        #expect(try store.publish(stale) == .newerRun(2))  // older than the published run: refused
        #expect(try store.publish(second) == .newerRun(2))  // and no run publishes twice
        let read = try #require(try store.score(forKey: "42"))
        #expect(read.score == 0.25)
        #expect(read.run == second)
        #expect(try store.score(forKey: "43") == nil)
    }

    @Test func trimKeepsThePublishedRunAndTheNewestOthers() throws {
        for id in Int64(1)...4 { #expect(try store.publish(write(id)) == nil) }
        #expect(try store.trim(keepRuns: 2) == [2, 1])
        #expect(try store.keptRuns() == [4, 3])
        #expect(try store.run(1) == nil)
        #expect(try keyCount() == 2 + 2 * 2)  // pointer, kept set, and facts + bucket of runs 3 and 4
    }

    @Test func rollbackServesAKeptRunAndStaleRunsStillCannotPublish() throws {
        #expect(try store.publish(write(1, score: 0.1)) == nil)
        #expect(try store.publish(write(2, score: 0.2)) == nil)
        let back = try store.rollback()
        #expect(back.runID == 1)
        #expect(try store.score(forKey: "42")?.score == 0.1)
        #expect(try store.publish(write(2, score: 0.3)) == .newerRun(2))  // `high` survived the rollback
        #expect(throws: RedisError.self) { try store.rollback(to: 7) }
        #expect(try store.rollback(to: 2).runID == 2)
        // Trimming never removes the published run, even when it is not the newest.
        _ = try store.rollback(to: 1)
        #expect(try store.publish(write(3)) == nil)
        _ = try store.rollback(to: 1)
        #expect(Set(try store.trim(keepRuns: 2)) == [2, 3])  // the runs rolled back from
        #expect(try store.keptRuns() == [1])
    }

    /// Rolled back from B to A, the next run C publishes: A stays (kept: C and A), B goes, and a
    /// default rollback lands on A, never on the rejected B.
    @Test func aRollbackTargetOutlivesTheNextPublishAndTheRejectedRunIsNotRolledBackTo() throws {
        #expect(try store.publish(write(1, score: 0.1)) == nil)
        #expect(try store.publish(write(2, score: 0.2)) == nil)
        #expect(try store.rollback().runID == 1)
        #expect(try store.keptRuns() == [1])
        #expect(try store.publish(write(3, score: 0.3)) == nil)
        #expect(try store.trim(keepRuns: 2) == [2])
        #expect(try store.keptRuns() == [3, 1])
        #expect(try store.run(1) != nil)
        #expect(try store.rollback().runID == 1)
        #expect(try store.score(forKey: "42")?.score == 0.1)
    }

    func ttl(_ key: String) throws -> Int? { try store.connection.command("TTL", key).integer.map(Int.init) }

    /// A run's keys expire (`output.ttl`, the safety net for runs that never publish) until it is
    /// persisted for its publish; runs published before that rule are persisted by the next publish.
    @Test func publishedAndKeptRunsNeverExpire() throws {
        let legacy = try write(1)
        #expect(try store.publish(legacy) == nil)  // published the old way: its keys still expire
        #expect(try ttl(store.layout.bucketKey(run: 1, bucket: 0)) ?? 0 > 0)
        let run = try write(2)
        try store.persist(2, buckets: 1)
        #expect(try store.publish(run) == nil)
        #expect(try ttl(store.layout.bucketKey(run: 2, bucket: 0)) == -1)
        #expect(try ttl(store.layout.runKey(2)) == -1)
        #expect(try store.persistKeptRuns() == [1])
        #expect(try ttl(store.layout.bucketKey(run: 1, bucket: 0)) == -1)
        #expect(try ttl(store.layout.runKey(1)) == -1)
        #expect(try store.persistKeptRuns() == [])
        _ = try write(3)  // not published: keeps its safety net
        #expect(try ttl(store.layout.bucketKey(run: 3, bucket: 0)) ?? 0 > 0)
        // A persist cut short after the facts: the next publish finishes it.
        let cut = try write(4)
        try store.connection.command("PERSIST", store.layout.runKey(4))
        #expect(try store.publish(cut) == nil)
        #expect(try store.persistKeptRuns() == [4])
        #expect(try ttl(store.layout.bucketKey(run: 4, bucket: 0)) == -1)
    }

    @Test func deleteRunRemovesEveryKeyWithOrWithoutItsFacts() throws {
        _ = try write(5)
        try store.deleteRun(5)
        #expect(try keyCount() == 0)
        _ = try write(6)
        try store.connection.command("UNLINK", store.layout.runKey(6))  // facts gone: found by SCAN
        try store.deleteRun(6)
        #expect(try keyCount() == 0)
    }

    @Test func sweepRemovesRunsOlderThanEveryKeptRun() throws {
        _ = try write(1)  // a run whose process died
        #expect(try store.publish(write(2)) == nil)
        _ = try write(3)  // still running: newer than the kept runs, left alone
        #expect(try store.sweepAbandonedRuns(live: []) == [1])
        #expect(try store.run(1) == nil)
        #expect(try store.run(3) != nil)
    }

    /// A slow run that started before the kept runs and still writes (PostgreSQL records it open)
    /// is older than every kept run, yet never swept under it.
    @Test func sweepLeavesARunThatIsStillWriting() throws {
        _ = try write(1)  // started first, still writing
        #expect(try store.publish(write(2)) == nil)
        #expect(try store.publish(write(3)) == nil)
        #expect(try store.sweepAbandonedRuns(live: [1]) == [])
        #expect(try store.run(1) != nil)
        #expect(try store.sweepAbandonedRuns(live: []) == [1])
    }
}
