import ArgumentParser
import Foundation
import PrescoreCore
import PrescoreHTTPClient
import PrescoreJobs

struct DemoExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract:
            "Simulate an experiment: traffic through prescore serve, then outcomes with a known effect.",
        discussion: """
            Requests the scores of --entities users (keys 1…--population, a seeded sample) from a \
            running prescore serve, then posts, for every user answered, synthetic outcomes to \
            POST /v1/outcomes (token: $PRESCORE_API_TOKEN): converted (rate 0.10, plus --effect \
            in the realtime arm), revenue (pre_revenue plus noise, plus --revenue-effect in the \
            realtime arm) and pre_revenue (its pre-period value, the CUPED covariate, dated a \
            week back). The lift report should then find these effects.
            """)

    @Option(name: .customLong("serve-url"), help: "The running prescore serve.") var serveURL =
        "http://127.0.0.1:8080"
    @Option(help: "The experiment to simulate (its job and arms come from --jobs-dir).") var experiment:
        String
    @Option(help: "Users to request.") var entities = 20_000
    @Option(help: "Users are sampled from keys 1…population.") var population = 200_000
    @Option(help: "Conversion-rate lift of the realtime arm.") var effect = 0.02
    @Option(name: .customLong("revenue-effect"), help: "Revenue lift per user of the realtime arm.")
    var revenueEffect = 1.0
    @Option(help: "Seed of the synthetic data.") var seed: UInt64 = 7
    @OptionGroup var jobs: JobsDirectoryOption

    func validate() throws {
        guard (1...1_000_000).contains(entities), entities <= population else {
            throw ValidationError("--entities must be 1 to 1000000, and at most --population")
        }
    }

    func run() throws {
        let catalog = try JobCatalog.load(directory: jobs.jobsDirectory)
        let (job, experiment) = try catalog.experiment(named: self.experiment, directory: jobs.jobsDirectory)
        guard let token = ProcessInfo.processInfo.environment["PRESCORE_API_TOKEN"], !token.isEmpty else {
            throw CLIError(
                .invalidInput, "set PRESCORE_API_TOKEN to the token prescore serve was started with")
        }
        var random = SplitMix64(seed: seed)
        var keys = Set<Int>()
        while keys.count < entities { keys.insert(Int.random(in: 1...population, using: &random)) }
        let answered = try traffic(keys.sorted().map(String.init), job: job.name)
        let weekAgo = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-7 * 86_400))
        let outcomes = answered.flatMap {
            outcome(for: $0, arm: experiment.arm(of: $0), preAt: weekAgo, random: &random)
        }
        for start in stride(from: 0, to: outcomes.count, by: 5_000) {
            let chunk = outcomes[start..<min(outcomes.count, start + 5_000)]
            let response = try send(
                "POST", "/v1/outcomes", body: "[" + chunk.joined(separator: ",") + "]",
                headers: [("Authorization", "Bearer \(token)")])
            guard response.status == 200 else {
                throw CLIError(
                    .invalidInput, "POST /v1/outcomes answered \(response.status): \(response.text)")
            }
        }
        let treated = answered.filter { experiment.arm(of: $0) == .realtime }.count
        print(
            "\(answered.count) users answered (\(treated) in the realtime arm), \(outcomes.count) outcomes posted; "
                + "known effects: converted +\(effect), revenue +\(revenueEffect) per user")
    }

    /// Single reads for the first 500 users, batches of 100 for the rest; the keys answered.
    func traffic(_ keys: [String], job: String) throws -> [String] {
        var answered: [String] = []
        for key in keys.prefix(500) where try send("GET", "/v1/scores/\(job)/\(key)").status == 200 {
            answered.append(key)
        }
        for start in stride(from: 500, to: keys.count, by: 100) {
            let chunk = keys[start..<min(keys.count, start + 100)]
            let body = "{\"keys\":[" + chunk.map { "\"\($0)\"" }.joined(separator: ",") + "]}"
            let response = try send("POST", "/v1/scores/\(job)/batch", body: body)
            guard response.status == 200,
                let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
                let results = object["results"] as? [[String: Any]]
            else {
                throw CLIError(.invalidInput, "the batch read answered \(response.status): \(response.text)")
            }
            answered += results.filter { $0["score"] != nil }.compactMap { $0["key"] as? String }
        }
        return answered
    }

    /// A user's synthetic outcomes, as JSON objects; the pre-period one dated `preAt`.
    func outcome(for key: String, arm: Experiment.Arm, preAt: String, random: inout SplitMix64) -> [String] {
        let treated = arm == .realtime
        let converted = Double.random(in: 0..<1, using: &random) < 0.10 + (treated ? effect : 0) ? 1 : 0
        let pre = max(0, 50 + 15 * random.normal())
        let revenue = max(0, 0.8 * pre + 10 + 8 * random.normal() + (treated ? revenueEffect : 0))
        func item(_ metric: String, _ value: Double, at: String? = nil) -> String {
            JSONText.object(
                [
                    ("experiment", .string(experiment)), ("key", .string(key)), ("metric", .string(metric)),
                    ("value", .number(value)),
                ] + (at.map { [("at", JSONText.Value.string($0))] } ?? []))
        }
        return [
            item("converted", Double(converted)), item("revenue", revenue),
            item("pre_revenue", pre, at: preAt),
        ]
    }

    func send(_ method: String, _ path: String, body: String = "", headers: [(String, String)] = []) throws
        -> HTTPResponse
    {
        try HTTPClient.send(
            HTTPRequest(
                method: method, url: serveURL + path,
                headers: [(name: "Content-Type", value: "application/json")]
                    + headers.map { (name: $0.0, value: $0.1) },
                body: Array(body.utf8), timeout: .seconds(30), maxResponseBytes: 16 << 20))
    }
}

extension HTTPResponse {
    var text: String { String(decoding: body.prefix(300), as: UTF8.self) }
}
