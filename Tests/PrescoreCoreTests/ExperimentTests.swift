import Testing

@testable import PrescoreCore

@Suite struct ExperimentTests {
    static let job = JobFileParserTests.example

    func parse(_ experiment: String, realtime: Bool = true) -> JobFileParser.Outcome {
        var text = Self.job + "\n" + experiment
        if !realtime {
            text = text.replacingOccurrences(
                of:
                    "realtime:\n  query: SELECT user_id AS key, f_amount_avg_30d FROM demo.users WHERE user_id = $1\n  timeout: 50ms\n",
                with: "")
        }
        return JobFileParser.parse(text, file: "jobs/x.yaml", directory: "/srv/jobs")
    }

    @Test func readsTheContractKeys() throws {
        let job = try #require(
            parse(
                """
                experiment:
                  name: rt_vs_batch
                  salt: "2026-12"
                  arms: {batch: 90, realtime: 10}
                  value_per_unit: 12.5
                  cost: {cpu_hour_usd: 0.04}
                """
            ).job)
        let experiment = try #require(job.experiment)
        #expect(experiment.name == "rt_vs_batch" && experiment.salt == "2026-12")
        #expect(experiment.weights == [.batch: 90, .realtime: 10])
        #expect(experiment.valuePerUnit == 12.5 && experiment.cpuHourUSD == 0.04)
        #expect(experiment.split.map(\.arm) == ["batch", "realtime"])
    }

    @Test func theSaltDefaultsToTheName() throws {
        let job = try #require(parse("experiment: {name: e1, arms: {batch: 1, realtime: 1}}").job)
        #expect(job.experiment?.salt == "e1")
        #expect(job.experiment?.valuePerUnit == nil && job.experiment?.cpuHourUSD == nil)
    }

    @Test func badExperimentsNameTheirField() {
        let cases: [(String, Bool, String)] = [
            ("experiment: {name: e1, arms: {batch: 90}}", true, "arms needs a weight for realtime"),
            ("experiment: {name: e1, arms: {batch: 0, realtime: 0}}", true, "at least one arm"),
            ("experiment: {name: e1, arms: {batch: 90, realtime: -1}}", true, "0 to 1000000"),
            (
                "experiment: {name: e1, arms: {batch: 90, realtime: 10, canary: 1}}", true,
                "unknown key 'canary'"
            ),
            ("experiment: {name: E 1, arms: {batch: 90, realtime: 10}}", true, "not a valid experiment name"),
            ("experiment: {name: e1, arms: {batch: 90, realtime: 10}}", false, "add realtime:"),
            (
                "experiment: {name: e1, arms: {batch: 9, realtime: 1}, value_per_unit: -2}", true,
                "value_per_unit"
            ),
            (
                "experiment: {name: e1, arms: {batch: 9, realtime: 1}, cost: {cpu_hour_usd: 0}}", true,
                "above 0"
            ),
            ("experiment: {arms: {batch: 9, realtime: 1}}", true, "name"),
        ]
        for (text, realtime, message) in cases {
            let outcome = parse(text, realtime: realtime)
            #expect(outcome.job == nil, "\(text)")
            #expect(
                outcome.problems.contains {
                    $0.description.contains(message) && $0.description.contains("jobs/x.yaml")
                },
                "\(text): \(outcome.problems)")
        }
    }

    /// The documented hash, as Python computes it:
    /// `int.from_bytes(hashlib.sha256(f"{salt}:{key}".encode()).digest()[:8], "big")`.
    @Test func assignmentIsTheDocumentedHash() {
        let reference: [(String, UInt64)] = [
            ("1", 3_654_401_273_719_087_339), ("42", 2_303_447_551_561_674_002),
            ("user-7", 5_563_962_051_844_446_444), ("é", 8_968_482_747_525_776_328),
            ("abc", 16_877_763_445_294_331_186),
        ]
        for (key, hash) in reference {
            #expect(Experiment.hash(salt: "exp-salt", key: key) == hash, "\(key)")
        }
        // h mod 10 with batch 9, realtime 1: 9 → realtime, the rest batch.
        let experiment = Experiment(name: "e", salt: "exp-salt", weights: [.batch: 9, .realtime: 1])
        #expect(experiment.arm(of: "1") == .realtime)
        #expect(["42", "user-7", "é", "abc", "9"].allSatisfy { experiment.arm(of: $0) == .batch })
    }

    @Test func armsFollowTheSplitAndTheSalt() {
        let experiment = Experiment(name: "e", salt: "a", weights: [.batch: 90, .realtime: 10])
        let keys = (0..<20_000).map(String.init)
        let treated = keys.filter { experiment.arm(of: $0) == .realtime }.count
        #expect((1_800...2_200).contains(treated), "\(treated)")
        var resalted = experiment
        resalted.salt = "b"
        let moved = keys.filter { experiment.arm(of: $0) != resalted.arm(of: $0) }.count
        #expect(moved > 2_000, "a new salt reshuffles")
        #expect(
            Experiment(name: "e", salt: "a", weights: [.batch: 0, .realtime: 5]).arm(of: "x") == .realtime)
    }
}
