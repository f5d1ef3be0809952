import Testing

@testable import PrescoreCore

@Suite struct SchedulingKeysTests {
    func parse(_ extra: String) -> JobFileParser.Outcome {
        JobFileParser.parse(JobFileParserTests.example + "\n" + extra, file: "jobs/x.yaml", directory: "/srv")
    }

    @Test func defaultsFollowKubernetesCronJob() throws {
        let job = try #require(parse("").job)
        #expect(job.scheduling == .default)
        #expect(job.scheduling.startingDeadline == .seconds(3_600))
        #expect(job.scheduling.concurrency == .forbid)
        #expect(job.scheduling.retries == RetryPolicy(max: 2, backoff: .seconds(30), cap: .seconds(600)))
        #expect(!job.scheduling.suspend)
        #expect(job.scheduling.webhookURL == nil)
        #expect(job.scheduling.history == .seconds(90 * 86_400))
    }

    @Test func readsEverySchedulingKey() throws {
        let outcome = parse(
            """
            starting_deadline: 10m
            concurrency: replace
            retries: { max: 5, backoff: 1m }
            suspend: true
            alerts: { webhook_url: "https://hooks.example.com/prescore" }
            history: 30d
            """)
        let job = try #require(outcome.job, "\(outcome.problems)")
        #expect(job.scheduling.startingDeadline == .seconds(600))
        #expect(job.scheduling.concurrency == .replace)
        #expect(job.scheduling.retries.max == 5)
        #expect(job.scheduling.retries.backoff == .seconds(60))
        #expect(job.scheduling.suspend)
        #expect(job.scheduling.webhookURL == "https://hooks.example.com/prescore")
        #expect(job.scheduling.history == .seconds(30 * 86_400))
    }

    @Test func badSchedulingKeysNameTheirField() {
        let outcome = parse(
            """
            starting_deadline: soon
            concurrency: sometimes
            retries: { max: -1, backoff: 0s, jitter: 1 }
            suspend: maybe
            alerts: { webhook_url: "ftp://x.example.com" }
            history: 5m
            """)
        #expect(outcome.job == nil)
        let fields = Set(outcome.problems.compactMap(\.location?.field))
        #expect(
            fields
                == [
                    "starting_deadline", "concurrency", "retries.max", "retries.backoff", "retries.jitter",
                    "suspend", "alerts.webhook_url", "history",
                ])
    }
}

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(max: 6, backoff: .seconds(30))

    @Test func doublesFromTheBackoffAndStopsAtMax() {
        // unit 1 gives the ceiling of the equal-jitter range, unit 0 half of it.
        #expect(policy.delay(afterAttempt: 1, unit: 1) == .seconds(30))
        #expect(policy.delay(afterAttempt: 2, unit: 1) == .seconds(60))
        #expect(policy.delay(afterAttempt: 3, unit: 1) == .seconds(120))
        #expect(policy.delay(afterAttempt: 3, unit: 0) == .seconds(60))
        #expect(policy.delay(afterAttempt: 7, unit: 1) == nil)
        #expect(RetryPolicy.default.delay(afterAttempt: 3, unit: 0.5) == nil)
    }

    @Test func isCappedAtTenMinutes() {
        #expect(policy.delay(afterAttempt: 6, unit: 1) == .seconds(600))
        #expect(policy.delay(afterAttempt: 6, unit: 0) == .seconds(300))
    }

    @Test func jitterStaysWithinHalfToAll() {
        for step in 0...100 {
            let delay = policy.delay(afterAttempt: 2, unit: Double(step) / 100)!
            #expect(delay >= .seconds(30) && delay <= .seconds(60))
        }
    }
}

@Suite struct DurationTextTests {
    @Test(arguments: ["30s", "1h30m", "250ms", "2d", "1m1s", "0s"])
    func readsBackAsWritten(text: String) throws {
        #expect(try DurationParser.parse(text).jobFileText == text)
    }
}
