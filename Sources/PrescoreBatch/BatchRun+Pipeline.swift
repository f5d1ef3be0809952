import Foundation
import PrescoreCore
import PrescorePostgres
import PrescoreRedis

extension BatchRun {
    /// Reads, scores and writes every row; returns the counts once all three stages have finished.
    func stream(
        plan: SourcePlan, source: PostgresConnection, redis: RedisSession?, runID: Int64, buckets: Int,
        live: LiveCounts, cancellation: CancellationFlag, progress: (RunCounts) -> Void,
        log: (String) -> Void
    ) throws -> (counts: RunCounts, largestBucket: Int) {
        let state = StageState()
        let toScore = BoundedQueue<RowBatch>(capacity: Self.queueCapacity)
        let toWrite = BoundedQueue<RowBatch>(capacity: Self.queueCapacity)
        let reader = SourceReader(connection: source, plan: plan, batchSize: options.batchSize)
        // A reader blocked in a slow source query (or behind a full queue) must stop when the run
        // is cancelled or the writer fails, not when PostgreSQL next sends a row.
        cancellation.onCancel { source.cancelCurrentStatement() }
        let readerDone = BlockingExecutor.shared.execute("prescore-read") {
            do {
                try reader.read(cancellation: cancellation) { toScore.push($0) }
            } catch {
                state.fail(error)
            }
            toScore.close()
        }
        var writerDone: BlockingExecutor.Completion?
        if let redis {
            let writer = ScoreWriter(
                session: redis, layout: layout, runID: runID, bucketCount: buckets, ttl: job.output.ttl,
                holdLimit: options.holdLimit)
            writerDone = BlockingExecutor.shared.execute("prescore-write") {
                var writer = writer
                while let batch = toWrite.pop() {
                    do {
                        if let reason = cancellation.cancellationReason {
                            throw BatchError(.runCancelled, reason)
                        }
                        state.written.add(try writer.write(batch), ordering: .relaxed)
                    } catch {
                        state.fail(error)
                        toWrite.close()
                        toScore.close()  // stops the reader at its next batch…
                        source.cancelCurrentStatement()  // …or at once, if it waits for PostgreSQL
                    }
                }
                // The scores still held: only when every batch arrived (after a failure or a
                // cancellation the run fails and its keys are removed anyway).
                if state.failure == nil, cancellation.cancellationReason == nil {
                    do {
                        state.written.add(try writer.flush(), ordering: .relaxed)
                    } catch {
                        state.fail(error)
                    }
                }
                state.largestBucket.store(Int(writer.bucketFill.max() ?? 0), ordering: .relaxed)
                state.restoreRefusal.withLock { $0 = writer.restoreRefusal }
            }
        }

        var counts = RunCounts()
        var failuresLogged = 0
        while var batch = toScore.pop() {
            if state.failure != nil || cancellation.cancellationReason != nil {
                toScore.close()
                continue
            }
            batch.scores = [Float](repeating: 0, count: batch.count)
            _ = batch.withFeatures { features in
                batch.scores.withUnsafeMutableBufferPointer { scorer.scoreInParallel(features, into: $0) }
            }
            counts.read += batch.count
            for row in 0..<batch.count where !batch.isWritable(row) {
                counts.failed += 1
                if failuresLogged < Self.loggedFailures {
                    failuresLogged += 1
                    log(
                        batch.nullKeys[row]
                            ? "a row with a NULL key cannot be stored"
                            : "key \(batch.keyText(row)): the score is \(batch.scores[row]), not a finite number"
                    )
                }
            }
            counts.scored = counts.read - counts.failed
            if writerDone != nil { toWrite.push(batch) }
            counts.written = state.written.load(ordering: .relaxed)
            live.set(counts)
            progress(counts)
        }
        toWrite.close()
        readerDone.wait()
        writerDone?.wait()
        counts.written = state.written.load(ordering: .relaxed)
        live.set(counts)
        if let refusal = state.restoreRefusal.withLock({ $0 }) {
            log("Redis refused RESTORE (\(refusal)); the scores were written by HSET instead (slower)")
        }
        if let reason = cancellation.cancellationReason { throw BatchError(.runCancelled, reason) }
        if let failure = state.failure { throw failure }
        if redis != nil && counts.written != counts.scored {
            throw BatchError(.runFailed, "Redis acknowledged \(counts.written) of \(counts.scored) scores")
        }
        return (counts, state.largestBucket.load(ordering: .relaxed))
    }
}
