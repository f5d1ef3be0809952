import Testing

@testable import PrescoreCore

@Suite struct JobFileParserTests {
    static let example = """
        name: fraud_risk
        schedule: "15 2 * * *"        # cron, in `timezone`
        timezone: Europe/Berlin
        model: { kind: xgboost-json, path: models/fraud_risk.json, version: "2026-11-01" }
        source:
          query: SELECT user_id AS key, f_amount_avg_30d FROM demo.users
        realtime:
          query: SELECT user_id AS key, f_amount_avg_30d FROM demo.users WHERE user_id = $1
          timeout: 50ms
        output: { ttl: 48h, keep_runs: 2 }
        """

    func parse(_ text: String) -> JobFileParser.Outcome {
        JobFileParser.parse(text, file: "jobs/x.yaml", directory: "/srv/jobs")
    }

    func problems(_ text: String) -> [CoreError] {
        let outcome = parse(text)
        #expect(outcome.job == nil)
        return outcome.problems
    }

    func replacing(_ old: String, with new: String) -> String {
        Self.example.replacingOccurrences(of: old, with: new)
    }

    @Test func readsTheContractExample() throws {
        let outcome = parse(Self.example)
        #expect(outcome.problems.isEmpty, "\(outcome.problems)")
        let job = try #require(outcome.job)
        #expect(job.name == "fraud_risk")
        #expect(job.schedule.text == "15 2 * * *")
        #expect(job.timezone == "Europe/Berlin")
        guard case .xgboostJSON(let path, let version) = job.model else {
            Issue.record("wrong model kind")
            return
        }
        #expect(path == "/srv/jobs/models/fraud_risk.json")  // relative to the job file
        #expect(version == "2026-11-01")
        #expect(job.sourceQuery.hasPrefix("SELECT user_id AS key"))
        #expect(job.realtime?.timeout == .milliseconds(50))
        #expect(job.output.ttl == .seconds(48 * 3_600))
        #expect(job.output.keepRuns == 2)
        #expect(job.location(of: "source.query").line == 6)
    }

    @Test func appliesDefaults() throws {
        let job = try #require(
            parse(
                """
                name: minimal
                schedule: "@daily"
                model: {kind: logistic, intercept: 0, weights: {a: 1}, version: v1}
                source:
                  query: SELECT 1 AS key, 2 AS a
                """
            ).job)
        #expect(job.timezone == "UTC")
        #expect(job.realtime == nil)
        #expect(job.output.keepRuns == 2)
        #expect(job.output.prefix == "prescore")
        #expect(job.guards.minRows == 1)
        #expect(job.guards.maxDropFraction == 0.5)
        #expect(job.maxFailedFraction == 0.001)
        guard case .logistic(let model) = job.model else {
            Issue.record("wrong model kind")
            return
        }
        #expect(model.link == .logit)
        #expect(model.featureNames == ["a"])
    }

    @Test func readsTheBatchRunKeys() throws {
        let job = try #require(
            parse(
                replacing(
                    "output: { ttl: 48h, keep_runs: 2 }",
                    with: """
                        output: { ttl: 48h, keep_runs: 3, prefix: "shop.scores" }
                        guards: { min_rows: 1000, max_drop_fraction: 0.2 }
                        max_failed_fraction: 0.01
                        """)
            ).job)
        #expect(job.output.prefix == "shop.scores")
        #expect(job.output.keepRuns == 3)
        #expect(job.guards.minRows == 1_000)
        #expect(job.guards.maxDropFraction == 0.2)
        #expect(job.maxFailedFraction == 0.01)
    }

    /// Prefix `a` with job `b` owns `a:b:s:5:*`, which would also match the keys of prefix `a:b:s`
    /// with job `5`: a prefix never holds a ':'.
    @Test func refusesAColonInThePrefix() {
        for prefix in ["a:b:s", "shop:", ":x", "a*", "a?b", "a[b]"] {
            let found = problems(
                replacing("output: { ttl: 48h, keep_runs: 2 }", with: "output: { prefix: \"\(prefix)\" }"))
            #expect(found.contains { $0.location?.field == "output.prefix" }, "\(prefix)")
        }
        #expect(JobFileParser.isValidPrefix("shop.scores-v2_eu"))
    }

    @Test func refusesBadBatchRunKeys() {
        let found = problems(
            replacing(
                "output: { ttl: 48h, keep_runs: 2 }",
                with: """
                    output: { prefix: "has space" }
                    guards: { min_rows: -1, max_drop_fraction: 1.5, max_rows: 3 }
                    max_failed_fraction: two
                    """))
        let fields = found.compactMap(\.location?.field)
        #expect(fields.contains("output.prefix"))
        #expect(fields.contains("guards.min_rows"))
        #expect(fields.contains("guards.max_drop_fraction"))
        #expect(fields.contains("guards.max_rows"))
        #expect(fields.contains("max_failed_fraction"))
    }

    @Test func unknownKeysNameFileLineAndField() throws {
        let found = problems(replacing("timeout: 50ms", with: "timeout: 50ms\n  retries: 3"))
        let problem = try #require(found.first)
        #expect(found.count == 1)
        #expect(problem.description.hasPrefix("jobs/x.yaml:10:3 (realtime.retries): unknown key 'retries'"))
    }

    @Test func reportsEveryProblemOfAFileAtOnce() {
        let found = problems(
            """
            name: Fraud Risk
            schedule: "61 * * * *"
            timezone: Mars/Olympus
            model: {kind: onnx, version: "1"}
            source: {query: [1, 2]}
            output: {ttl: 48, keep_runs: zero}
            """)
        let text = found.map(\.description)
        #expect(
            text.contains { $0.hasPrefix("jobs/x.yaml:1:7 (name)") && $0.contains("not a valid job name") })
        #expect(
            text.contains { $0.hasPrefix("jobs/x.yaml:2:11 (schedule)") && $0.contains("minute field '61'") })
        #expect(text.contains { $0.contains("(timezone)") && $0.contains("Mars/Olympus") })
        #expect(text.contains { $0.contains("(model.kind)") && $0.contains("onnx") })
        #expect(text.contains { $0.contains("(source.query)") && $0.contains("expected text") })
        #expect(text.contains { $0.contains("(output.ttl)") && $0.contains("a unit is missing") })
        #expect(text.contains { $0.contains("(output.keep_runs)") && $0.contains("whole number") })
    }

    @Test func requiredKeysAreNamed() {
        let text = problems("name: a\n").map(\.description)
        for key in ["schedule", "model", "source"] {
            #expect(text.contains { $0.contains("'\(key)' is required") }, "\(key)")
        }
        #expect(
            problems(replacing("version: \"2026-11-01\" ", with: "")).contains {
                $0.description.contains("'model.version' is required")
            })
    }

    @Test func badDurationsAndWrongTypesAreReportedWithTheirField() {
        let found = problems(replacing("timeout: 50ms", with: "timeout: 50 ms"))
        #expect(found.first?.code == .invalidDuration)
        #expect(found.first?.location?.field == "realtime.timeout")
        #expect(found.first?.location?.line == 9)
        let wrongType = problems(replacing("name: fraud_risk", with: "name: [fraud_risk]"))
        #expect(wrongType.first?.description.contains("(name): expected text, found a list") == true)
    }

    @Test func yamlSyntaxErrorsHaveALine() {
        let found = problems("name: a\nschedule: \"oops\nmodel: x\n")
        #expect(found.count == 1)
        #expect(found[0].location?.line != nil)
        #expect(found[0].message.hasPrefix("YAML"))
    }

    @Test func modelKeysMustFitTheKind() {
        let found = problems(replacing("version: \"2026-11-01\"", with: "version: \"1\", weights: {a: 1}"))
        #expect(found.first?.description.contains("'weights' does not apply to kind xgboost-json") == true)
    }

    @Test(arguments: ["a", "fraud_risk", "0-9_x", String(repeating: "a", count: 63)])
    func acceptsValidNames(name: String) { #expect(JobFileParser.isValidName(name)) }

    @Test(arguments: ["", "_a", "-a", "A", "a.b", "a b", "ä", String(repeating: "a", count: 64)])
    func refusesInvalidNames(name: String) { #expect(!JobFileParser.isValidName(name)) }

    @Test func readsAStandaloneModelBlock() {
        let outcome = JobFileParser.parseModelBlock(
            "model: {kind: logistic, intercept: -2.1, weights: {x: 0.8}, link: identity, version: s1}",
            file: "m.yaml", directory: ".")
        #expect(outcome.problems.isEmpty)
        #expect(outcome.model?.kind == "logistic")
    }

    @Test func readsTheServingKeys() throws {
        let job = try #require(
            parse(
                replacing(
                    "timeout: 50ms",
                    with: """
                        timeout: 80ms
                          on_failure: {default_score: 0.25}
                          max_in_flight: 4
                          max_queued: 10
                          breaker: {failure_ratio: 0.3, window: 50, minimum_calls: 10, cool_down: 5s, trial_calls: 2}
                        """
                ).replacingOccurrences(of: "keep_runs: 2 }", with: "keep_runs: 2, max_age: 36h }")
            ).job)
        let realtime = try #require(job.realtime)
        #expect(realtime.timeout == .milliseconds(80))
        #expect(realtime.onFailure == .defaultScore(0.25))
        #expect(realtime.maxInFlight == 4 && realtime.maxQueued == 10)
        #expect(realtime.breaker.failureRatio == 0.3 && realtime.breaker.window == 50)
        #expect(realtime.breaker.minimumCalls == 10 && realtime.breaker.trialCalls == 2)
        #expect(realtime.breaker.coolDown == .seconds(5))
        #expect(job.output.maxAge == .seconds(36 * 3600))
        let defaults = try #require(parse(Self.example).job?.realtime)
        #expect(defaults.onFailure == .error)
        #expect(defaults.breaker == CircuitBreaker.Settings())
    }

    @Test func refusesBadServingKeys() {
        let found = problems(
            replacing(
                "timeout: 50ms",
                with: """
                    timeout: 50ms
                      on_failure: maybe
                      max_in_flight: 0
                      breaker: {failure_ratio: 2}
                    """
            ).replacingOccurrences(of: "keep_runs: 2 }", with: "keep_runs: 2, max_age: 0s }"))
        let fields = Set(found.compactMap(\.location?.field))
        #expect(
            fields == [
                "realtime.on_failure", "realtime.max_in_flight", "realtime.breaker.failure_ratio",
                "output.max_age",
            ], "\(found)")
    }
}
