import Foundation
import NIOCore
import PrescoreBatch
import PrescoreCore
import PrescoreJobs
import PrescorePostgres
import Synchronization

/// One job's realtime fallback for a miss: its `realtime.query` with `$1` = the key, prepared on a
/// pooled PostgreSQL connection, the row scored with the job's model, and the score written back
/// to the published run's bucket (not awaited). Guarded, each guard a state machine of
/// `PrescoreCore`: the job's `CircuitBreaker`, a `Bulkhead` (`max_in_flight`, `max_queued`) and a
/// `FallbackDeadline` per request (`realtime.timeout`). Concurrent misses of one key share one
/// query (single-flight).
///
/// libpq blocks: the query runs on a thread of the process's `BlockingExecutor`; the request's
/// task only waits, and its deadline is a timer on an event loop.
final class RealtimeFallback: Sendable {
    enum Answer: Sendable, Equatable {
        /// `cpuMicros`: the CPU time this process spent on the query and the scoring.
        case scored(Float, cpuMicros: Int)
        case notFound
        case unavailable(reason: String)
    }

    private struct Queue {
        var bulkhead: Bulkhead
        var waiting: [(ticket: UInt64, start: @Sendable () -> Void)] = []
    }

    let job: LoadedJob
    let settings: JobDefinition.Realtime
    let pool: PostgresPool
    let metrics: ServeMetrics
    let eventLoops: any EventLoopGroup
    /// Writes a score back to the published run (fire and forget).
    let writeBack: @Sendable (_ key: String, _ score: Float) -> Void
    private let breaker: Mutex<CircuitBreaker>
    private let queue: Mutex<Queue>
    /// The misses waiting for each key's query beside the one that asked it.
    private let flights = Mutex<[String: [@Sendable (Answer) -> Void]]>([:])
    private let binding = Mutex<FeatureBinding?>(nil)
    private let tickets = Atomic<UInt64>(0)

    init(
        job: LoadedJob, settings: JobDefinition.Realtime, pool: PostgresPool, metrics: ServeMetrics,
        eventLoops: any EventLoopGroup, writeBack: @escaping @Sendable (String, Float) -> Void
    ) {
        self.job = job
        self.settings = settings
        self.pool = pool
        self.metrics = metrics
        self.eventLoops = eventLoops
        self.writeBack = writeBack
        breaker = Mutex(CircuitBreaker(settings: settings.breaker))
        queue = Mutex(
            Queue(bulkhead: Bulkhead(maxInFlight: settings.maxInFlight, maxQueued: settings.maxQueued)))
    }

    var breakerState: CircuitBreaker.State { breaker.withLock { $0.state } }

    /// The fallback's answer for `key`; a concurrent miss of the same key waits for the same one.
    func answer(_ key: String) async -> Answer {
        await withCheckedContinuation { continuation in answer(key) { continuation.resume(returning: $0) } }
    }

    /// `answer`, for a caller on an event loop: `reply` runs once, on whichever thread decided (an
    /// executor thread, an event loop's timer, or the caller's own when refused at once).
    func answer(_ key: String, reply: @escaping @Sendable (Answer) -> Void) {
        let leads = flights.withLock { flights -> Bool in
            if flights[key] != nil {
                flights[key]!.append(reply)
                return false
            }
            flights[key] = []
            return true
        }
        guard leads else { return }
        guarded(key) { [self] answer in
            let followers = flights.withLock { $0.removeValue(forKey: key) ?? [] }
            reply(answer)
            for follower in followers { follower(answer) }
        }
    }

    /// Breaker, bulkhead and deadline around one query.
    private func guarded(_ key: String, reply: @escaping @Sendable (Answer) -> Void) {
        let permitted = breaker.withLock { $0.event(.callRequested(at: Date())) }
        guard permitted == .permit else {
            metrics.fallback(job.name, .rejectedBreaker)
            return reply(.unavailable(reason: "the circuit breaker is open"))
        }
        let race = Mutex(FallbackDeadline())
        let ticket = tickets.wrappingAdd(1, ordering: .relaxed).oldValue
        let decide: @Sendable (FallbackDeadline.Event, Int) -> Void = { [self] event, cpuMicros in
            let action = race.withLock { $0.event(event) }
            guard let answer = record(action, event: event, cpuMicros: cpuMicros) else { return }
            reply(answer)
        }
        let timer = eventLoops.next().scheduleTask(
            in: .nanoseconds(Int64(settings.timeout.totalSeconds * 1e9))
        ) {
            [self] in
            decide(.expired, 0)
            leaveQueue(ticket)
        }
        let start: @Sendable () -> Void = { [self] in
            BlockingExecutor.shared.execute("prescore-fallback") { [self] in
                let cpuBefore = Self.threadCPUMicros()
                let event = query(key)
                let cpuMicros = Self.threadCPUMicros() - cpuBefore
                timer.cancel()
                if case .scored(let score) = event { writeBack(key, score) }
                decide(event, cpuMicros)
                finished()
            }
        }
        let action = queue.withLock { queue -> Bulkhead.Action in
            let action = queue.bulkhead.event(.arrived)
            if action == .queue { queue.waiting.append((ticket, start)) }
            return action
        }
        switch action {
        case .run:
            start()
        case .queue:
            break
        default:
            timer.cancel()
            metrics.fallback(job.name, .rejectedBulkhead)
            _ = race.withLock { $0.event(.failed("")) }
            breaker.withLock { _ = $0.event(.callNotMade) }
            reply(
                .unavailable(
                    reason: "\(settings.maxInFlight) fallbacks run and \(settings.maxQueued) wait already"))
        }
    }

    /// Feeds the breaker and metrics with the race's decision; the answer to give, if any.
    private func record(_ action: FallbackDeadline.Action, event: FallbackDeadline.Event, cpuMicros: Int)
        -> Answer?
    {
        let answer: Answer
        switch action {
        case .none: return nil
        case .answer(let score): answer = .scored(score, cpuMicros: cpuMicros)
        case .answerNotFound: answer = .notFound
        case .answerFailure(let reason): answer = .unavailable(reason: reason)
        }
        let state = breaker.withLock { breaker -> CircuitBreaker.State in
            if case .unavailable = answer {
                _ = breaker.event(.callFailed(at: Date()))
            } else {
                _ = breaker.event(.callSucceeded)
            }
            return breaker.state
        }
        metrics.breaker(job.name, state)
        switch event {
        case .scored: metrics.fallback(job.name, .scored)
        case .notFound: metrics.fallback(job.name, .notFound)
        case .failed: metrics.fallback(job.name, .failed)
        case .expired: metrics.fallback(job.name, .timeout)
        }
        return answer
    }

    /// The calling thread's CPU time: what one realtime scoring costs this process (the lift
    /// report prices it).
    static func threadCPUMicros() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return time.tv_sec * 1_000_000 + time.tv_nsec / 1000
    }

    /// A running fallback ended: the oldest queued one starts.
    private func finished() {
        let next = queue.withLock { queue -> (@Sendable () -> Void)? in
            guard queue.bulkhead.event(.finished) == .runNext, !queue.waiting.isEmpty else { return nil }
            return queue.waiting.removeFirst().start
        }
        next?()
    }

    /// A queued miss whose deadline passed leaves the queue (a running one runs to its end).
    private func leaveQueue(_ ticket: UInt64) {
        queue.withLock { queue in
            guard let index = queue.waiting.firstIndex(where: { $0.ticket == ticket }) else { return }
            queue.waiting.remove(at: index)
            _ = queue.bulkhead.event(.abandonedWhileQueued)
        }
    }

    private var statementName: String { "prescore_realtime_" + job.name }

    /// Prepares the job's `realtime.query` on `pooled` unless it is already. Blocking.
    func prepare(on pooled: PostgresPool.Pooled) throws {
        guard !pooled.prepared.contains(statementName) else { return }
        try pooled.connection.prepare(statementName, settings.query)
        pooled.prepared.insert(statementName)
    }

    /// The query and the score, on an executor thread.
    private func query(_ key: String) -> FallbackDeadline.Event {
        do {
            let (columns, row) = try pool.withConnection { pooled -> ([String], [String?]?) in
                try prepare(on: pooled)
                let result = try pooled.connection.executePrepared(statementName, [key])
                return (result.columns, result.rows.first)
            }
            let load = pool.load
            metrics.poolInUse.record(load.inUse)
            metrics.poolWaiting.record(load.waiting)
            guard let row else { return .notFound }
            return try .scored(score(columns: columns, row: row))
        } catch let error as PostgresError where error.sqlState?.hasPrefix("22") == true {
            // A data exception (a text key for an integer column, say): no entity can have this
            // key. An answer, not a failure: hostile keys must not open the breaker.
            return .notFound
        } catch {
            return .failed("\(error)".split(whereSeparator: \.isNewline).joined(separator: " "))
        }
    }

    /// Scores one row of text values (NULL is a missing feature), binding columns to the model's
    /// features by name once.
    private func score(columns: [String], row: [String?]) throws -> Float {
        let featureColumns = columns.indices.filter { columns[$0] != "key" }
        let binding = try self.binding.withLock { cached -> FeatureBinding in
            if let cached { return cached }
            let made = try FeatureBinding(
                columns: featureColumns.map { columns[$0] }, featureNames: job.scorer.featureNames,
                featureCount: job.scorer.featureCount)
            cached = made
            return made
        }
        var features = [Float](repeating: .nan, count: job.scorer.featureCount)
        for (position, column) in featureColumns.enumerated() {
            guard let text = row[column] else { continue }
            let value: Double? = text == "t" ? 1 : text == "f" ? 0 : Double(text)
            guard let value else {
                throw CoreError(.featureMismatch, "column \(columns[column]) is not a number")
            }
            features[binding.featureIndexForColumn[position]] = Float(value)
        }
        var score: Float = 0
        features.withUnsafeBufferPointer { input in
            withUnsafeMutablePointer(to: &score) {
                _ = job.scorer.score(input, into: UnsafeMutableBufferPointer(start: $0, count: 1))
            }
        }
        guard score.isFinite else {
            throw CoreError(.featureMismatch, job.scorer.lastFailure ?? "the model gave \(score)")
        }
        return score
    }
}
