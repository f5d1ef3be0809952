import Testing

@testable import PrescoreCore

@Suite struct RunLifecycleTests {
    func lifecycle(minRows: Int = 1, maxDrop: Double = 0.5, maxFailed: Double = 0.001, dryRun: Bool = false)
        -> RunLifecycle
    {
        RunLifecycle(
            guards: .init(minRows: minRows, maxDropFraction: maxDrop), maxFailedFraction: maxFailed,
            dryRun: dryRun)
    }

    func counts(_ read: Int, failed: Int = 0) -> RunCounts {
        RunCounts(read: read, scored: read - failed, written: read - failed, failed: failed)
    }

    @Test func aCompleteRunPublishesThenSucceeds() {
        var run = lifecycle()
        #expect(run.event(.sourceFinished(counts(1_000), publishedRows: 900)) == .publish)
        #expect(run.state == .publishing)
        #expect(run.event(.cancelRequested("SIGTERM")) == .none)  // the atomic switch completes
        #expect(run.event(.published) == .succeed)
        #expect(run.state == .finished(.succeeded))
    }

    @Test func aRefusedPublishIsSupersededAndDiscards() {
        var run = lifecycle()
        _ = run.event(.sourceFinished(counts(10), publishedRows: nil))
        guard case .discard(.superseded, let reason) = run.event(.publishRefused(newerRun: 12)) else {
            Issue.record("expected a discard")
            return
        }
        #expect(reason.contains("run 12"))
    }

    @Test func failuresAndCancelsWhileStreamingDiscard() {
        var failed = lifecycle()
        #expect(
            failed.event(.failed("PostgreSQL went away")) == .discard(.failed, reason: "PostgreSQL went away")
        )
        #expect(failed.event(.published) == .none)
        var cancelled = lifecycle()
        #expect(cancelled.event(.cancelRequested("SIGINT")) == .discard(.cancelled, reason: "SIGINT"))
        #expect(cancelled.state == .finished(.cancelled))
    }

    @Test func guardsRefuseSmallRuns() {
        var tooFew = lifecycle(minRows: 100)
        #expect(
            tooFew.event(.sourceFinished(counts(99), publishedRows: nil))
                == .discard(.failed, reason: "read 99 rows, fewer than guards.min_rows 100"))
        var dropped = lifecycle(maxDrop: 0.5)
        guard
            case .discard(.failed, let reason) = dropped.event(
                .sourceFinished(counts(499), publishedRows: 1_000))
        else {
            Issue.record("expected a discard")
            return
        }
        #expect(reason.contains("max_drop_fraction"))
        var half = lifecycle(maxDrop: 0.5)
        #expect(half.event(.sourceFinished(counts(500), publishedRows: 1_000)) == .publish)
        var empty = lifecycle(minRows: 0)
        #expect(empty.event(.sourceFinished(counts(0), publishedRows: nil)) == .publish)
    }

    @Test func theErrorBudgetIsAFractionOfRowsRead() {
        var within = lifecycle(maxFailed: 0.01)
        #expect(within.event(.sourceFinished(counts(1_000, failed: 10), publishedRows: nil)) == .publish)
        var past = lifecycle(maxFailed: 0.01)
        guard
            case .discard(.failed, let reason) = past.event(
                .sourceFinished(counts(1_000, failed: 11), publishedRows: nil))
        else {
            Issue.record("expected a discard")
            return
        }
        #expect(reason.contains("11 of 1000 rows"))
    }

    @Test func aDryRunReportsAndNeverPublishes() {
        var passing = lifecycle(dryRun: true)
        #expect(
            passing.event(.sourceFinished(counts(10), publishedRows: 10))
                == .reportDryRun(.succeeded, reason: nil))
        var failing = lifecycle(minRows: 100, dryRun: true)
        #expect(
            failing.event(.sourceFinished(counts(10), publishedRows: nil))
                == .reportDryRun(.failed, reason: "read 10 rows, fewer than guards.min_rows 100"))
    }
}
