import PrescoreCore
import Testing

@Suite struct RunResilienceTests {
    @Test func theReconnectBudgetAllowsThreeLossesInThirtySeconds() {
        var budget = ReconnectBudget()
        #expect(budget.connectionLost(at: 0) == .reconnect(after: .milliseconds(250)))
        #expect(budget.connectionLost(at: 1) == .reconnect(after: .seconds(1)))
        #expect(budget.connectionLost(at: 2) == .reconnect(after: .seconds(4)))
        guard case .giveUp(let why) = budget.connectionLost(at: 3) else {
            Issue.record("a fourth loss within 30 s must give up")
            return
        }
        #expect(why.contains("at most 3 reconnects"))
        // Losses older than the window no longer count.
        var later = ReconnectBudget()
        for second in [0.0, 1, 2] { _ = later.connectionLost(at: second) }
        #expect(later.connectionLost(at: 40) == .reconnect(after: .milliseconds(250)))
    }

    @Test func aHeartbeatStopsTheRunBeforeItsLeaseCanLapse() {
        var heartbeat = RunHeartbeat(lease: .seconds(30), startedAt: 0)
        #expect(heartbeat.interval == .seconds(10))
        #expect(heartbeat.event(.renewFailed(at: 10)) == .none)
        #expect(heartbeat.event(.renewed(at: 15)) == .none)
        #expect(heartbeat.event(.renewFailed(at: 34)) == .none)
        guard case .cancelRun = heartbeat.event(.renewFailed(at: 35)) else {
            Issue.record("20 s without a renewal of a 30 s lease must cancel")
            return
        }
        #expect(heartbeat.event(.renewFailed(at: 40)) == .none, "once only")
        var lost = RunHeartbeat(lease: .seconds(30), startedAt: 0)
        #expect(lost.event(.lost(reason: "gone")) == .cancelRun(reason: "gone"))
    }

    @Test(arguments: ["99999999999999999999d", "36501d", "1e400s"])
    func durationsOutOfRangeAreErrorsNotTraps(text: String) {
        #expect(throws: CoreError.self) { try DurationParser.parse(text) }
    }

    @Test func theLongestDurationIsAccepted() throws {
        #expect(try DurationParser.parse("36500d") == DurationParser.maximum)
    }
}
