import Testing

@testable import PrescoreCore

@Suite struct RunRetentionTests {
    @Test func trimKeepsThePublishedRunAndTheNewestOthersAndDropsRejectedOnes() {
        #expect(RunRetention.trim(kept: [4, 3, 2, 1], rejected: [], published: 4, keepRuns: 2) == [2, 1])
        // Rolled back to 1 (2 rejected), then 3 published: 1 stays as the rollback target.
        #expect(RunRetention.trim(kept: [3, 1], rejected: [2], published: 3, keepRuns: 2) == [2])
        // The published run is never removed, even when it is old or was rejected before.
        #expect(RunRetention.trim(kept: [5, 4, 1], rejected: [6], published: 1, keepRuns: 2) == [4, 6])
        #expect(RunRetention.trim(kept: [2], rejected: [2], published: 2, keepRuns: 1) == [])
    }

    @Test func abandonedRunsAreOldDeadAndUnkept() {
        let kept: Set<Int64> = [5, 6]
        #expect(RunRetention.abandoned(runs: [7, 1, 5, 3, 6], kept: kept, published: 6, live: [3]) == [1])
        #expect(RunRetention.abandoned(runs: [1, 2], kept: [], published: nil, live: []) == [])
    }
}
