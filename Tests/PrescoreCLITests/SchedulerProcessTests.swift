import Foundation
import PrescoreTestSupport
import Testing

/// Two `prescore scheduler` processes on one PostgreSQL, real time, `@every 2s`: one is killed with
/// SIGKILL while it holds a run and is restarted. Every slot must run exactly once, none lost.
@Suite struct SchedulerProcessTests {
    /// A scheduler process whose output goes to a file (a pipe nobody reads would fill and block it).
    struct Daemon {
        let process = Process()

        init(_ fixture: BatchRunFixture, instance: String) throws {
            let log = fixture.folder.url.appendingPathComponent("\(instance).log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.executableURL = PrescoreProcess.executable
            process.arguments = fixture.arguments(
                "scheduler", ["--instance", instance, "--lease", "3s", "--grace", "20s"])
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
        }

        func stop(_ signal: Int32) -> Int32 {
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    func poll(seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(100_000)
        }
        return false
    }

    @Test func everySlotRunsOnceWhenOneOfTwoSchedulersIsKilled() throws {
        try BatchRunFixture.with(schedule: "@every 2s", extra: "concurrency: allow") { fixture in
            try fixture.setSource(rows: 1_000, pauseAt: 10, pauseSeconds: 1)
            let a = try Daemon(fixture, instance: "a")
            let b = try Daemon(fixture, instance: "b")
            let runningOnA = """
                SELECT run_id FROM prescore.job_run_attempts WHERE instance = 'a' AND status = 'running' LIMIT 1
                """
            var killedRun: Int64?
            #expect(
                try poll(seconds: 20) {
                    killedRun = try fixture.database.execute(runningOnA).scalar.flatMap { Int64($0) }
                    return killedRun != nil
                })
            #expect(a.stop(SIGKILL) == SIGKILL)
            let killed = try #require(killedRun)
            usleep(1_000_000)
            let restarted = try Daemon(fixture, instance: "a-restarted")

            // The killed run is taken over once its 3 s lease runs out; then two more slots.
            #expect(
                try poll(seconds: 30) {
                    let runs = try fixture.scheduledRuns()
                    guard let index = runs.firstIndex(where: { $0.runID == killed }) else { return false }
                    return runs[index].status == "succeeded"
                        && runs[(index + 1)...].filter { $0.status == "succeeded" }.count >= 2
                })
            let stoppedAt = Date()
            #expect(restarted.stop(SIGTERM) == 0)
            #expect(b.stop(SIGTERM) == 0)

            let runs = try fixture.scheduledRuns()
            let slots = runs.compactMap(\.scheduledFor)
            #expect(slots.count == runs.count)
            #expect(slots.count >= 3)
            // No slot lost: consecutive slots are 2 s apart from the first to the last.
            #expect(zip(slots, slots.dropFirst()).allSatisfy { $1 - $0 == 2 }, "\(slots)")
            for run in runs where run.scheduledFor! < stoppedAt.timeIntervalSince1970 - 1 {
                #expect(run.status == "succeeded", "run \(run.runID): \(run.status) \(run.error ?? "")")
                let attempts = try fixture.attempts(of: run.runID)
                #expect(attempts.filter { $0.status == "succeeded" }.count == 1)
            }
            let takeover = try fixture.attempts(of: killed)
            #expect(takeover.first?.instance == "a")
            #expect(takeover.first?.status == "abandoned")
            #expect(takeover.count >= 2)
            #expect(takeover.last?.status == "succeeded")
        }
    }
}
