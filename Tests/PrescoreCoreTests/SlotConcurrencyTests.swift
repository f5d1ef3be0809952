import Foundation
import Testing

@testable import PrescoreCore

@Suite struct SlotConcurrencyTests {
    let slot = Date(timeIntervalSince1970: 1_799_542_800)  // 2027-01-10T01:00:00Z
    typealias Open = SlotConcurrency.OpenRun

    @Test func nothingOpenStartsWhateverThePolicy() {
        for policy in JobDefinition.Concurrency.allCases {
            #expect(SlotConcurrency.decide(policy, slot: slot, open: []) == .start)
            #expect(
                SlotConcurrency.decide(policy, slot: slot, open: [Open(runID: 3, state: .lapsed)]) == .start)
        }
    }

    /// A run whose scheduler died holds the job until it is taken over: the slot is skipped, so
    /// the takeover and the slot never run side by side.
    @Test func forbidSkipsWhileARunAwaitsItsTakeover() {
        let decision = SlotConcurrency.decide(
            .forbid, slot: slot, open: [Open(runID: 7, state: .awaitingTakeover)])
        #expect(decision == .skip(reason: "run 7 of the job was still open (concurrency: forbid)"))
        #expect(
            SlotConcurrency.decide(.forbid, slot: slot, open: [Open(runID: 7, state: .waiting)]) != .start)
    }

    @Test func replaceCancelsIdleRunsAndAsksHoldersToStop() {
        let open = [
            Open(runID: 1, state: .waiting), Open(runID: 2, state: .running),
            Open(runID: 3, state: .awaitingTakeover), Open(runID: 4, state: .lapsed),
        ]
        #expect(
            SlotConcurrency.decide(.replace, slot: slot, open: open)
                == .startReplacing(
                    idle: [1, 3], held: [2], reason: "replaced by the slot of 2027-01-10T01:00:00+00:00"))
        #expect(SlotConcurrency.decide(.allow, slot: slot, open: open) == .start)
    }
}
