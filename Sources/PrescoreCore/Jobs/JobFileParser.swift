import Foundation
import Yams

/// Turns the text of one job file into a `JobDefinition`, or into every problem the file has.
///
/// Pure: it reads no files and connects to nothing. Checks that need the outside world (does the model
/// file exist, do the queries prepare, do their columns match the model) are done by the caller with
/// the locations this parser records.
public enum JobFileParser {
    public static let topLevelKeys = [
        "name", "schedule", "timezone", "model", "source", "realtime", "output", "guards",
        "max_failed_fraction", "starting_deadline", "concurrency", "retries", "suspend", "alerts",
        "history", "experiment",
    ]
    static let modelKeys = ["kind", "path", "version", "intercept", "weights", "link"] + remoteModelKeys

    /// The outcome of parsing one file: a job when the file has no problems.
    public struct Outcome: Sendable {
        public var job: JobDefinition?
        public var problems: [CoreError]
    }

    /// Parses `text`, the contents of `file`. `directory` is the job file's folder, against which a
    /// relative model path is resolved.
    public static func parse(_ text: String, file: String, directory: String) -> Outcome {
        var problems: [CoreError] = []
        guard let root = compose(text, file: file, problems: &problems),
            let top = YAMLMapping(root, file: file, path: "", problems: &problems)
        else { return Outcome(problems: problems) }
        top.checkKeys(known: topLevelKeys, problems: &problems)
        var locations: [String: SourceLocation] = [:]

        let name = top.string("name", required: true, problems: &problems)
        locations["name"] = top.location("name")
        if let name, !isValidName(name) {
            problems.append(
                top.problem(
                    "name",
                    "'\(name)' is not a valid job name: use 1 to 63 characters "
                        + "a-z, 0-9, '_' and '-', starting with a letter or digit"))
        }

        var schedule: CronExpression?
        if let text = top.string("schedule", required: true, problems: &problems) {
            do {
                schedule = try CronExpression(text)
            } catch let error as CoreError {
                problems.append(top.problem("schedule", error.message, code: .invalidCron))
            } catch {}
        }

        let timezone = top.string("timezone", required: false, problems: &problems) ?? "UTC"
        if TimeZone(identifier: timezone) == nil {
            problems.append(
                top.problem(
                    "timezone",
                    "unknown time zone '\(timezone)': use an IANA name such as "
                        + "Europe/Berlin or UTC"))
        }

        let model = top.mapping("model", required: true, problems: &problems).flatMap {
            parseModel($0, directory: directory, locations: &locations, problems: &problems)
        }

        var sourceQuery: String?
        if let source = top.mapping("source", required: true, problems: &problems) {
            source.checkKeys(known: ["query"], problems: &problems)
            sourceQuery = source.query("query", problems: &problems)
            locations["source.query"] = source.location("query")
        }

        let realtime = top.mapping("realtime", required: false, problems: &problems).flatMap {
            parseRealtime($0, locations: &locations, problems: &problems)
        }

        locations["experiment"] = top.location("experiment")
        let experiment = top.mapping("experiment", required: false, problems: &problems).flatMap {
            parseExperiment($0, hasRealtime: realtime != nil, problems: &problems)
        }

        var output = JobDefinition.Output(
            ttl: JobDefinition.Output.defaultTTL,
            keepRuns: JobDefinition.Output.defaultKeepRuns, prefix: JobDefinition.Output.defaultPrefix)
        if let section = top.mapping("output", required: false, problems: &problems) {
            section.checkKeys(known: ["ttl", "keep_runs", "prefix", "max_age"], problems: &problems)
            if let maxAge = section.duration("max_age", problems: &problems) {
                if maxAge < .seconds(1) {
                    problems.append(section.problem("max_age", "max_age must be at least 1s"))
                }
                output.maxAge = maxAge
            }
            if let prefix = section.string("prefix", required: false, problems: &problems) {
                if !isValidPrefix(prefix) {
                    problems.append(
                        section.problem(
                            "prefix",
                            "'\(prefix)' is not a valid key prefix: use 1 to 64 characters "
                                + "A-Z, a-z, 0-9, '_', '-' and '.' (no ':': keys are PREFIX:JOB:…, "
                                + "and a ':' in a prefix lets one job's keys be taken for another's)"))
                }
                output.prefix = prefix
            }
            if let ttl = section.duration("ttl", problems: &problems) {
                if ttl < .seconds(1) {
                    problems.append(section.problem("ttl", "the ttl must be at least 1s"))
                }
                output.ttl = ttl
            }
            if let keep = section.integer("keep_runs", problems: &problems) {
                if keep < 1 {
                    problems.append(
                        section.problem("keep_runs", "keep_runs must be at least 1 (the published run)"))
                }
                output.keepRuns = keep
            }
        }

        var guards = JobDefinition.Guards.default
        if let section = top.mapping("guards", required: false, problems: &problems) {
            section.checkKeys(known: ["min_rows", "max_drop_fraction"], problems: &problems)
            if let minRows = section.integer("min_rows", problems: &problems) {
                if minRows < 0 { problems.append(section.problem("min_rows", "min_rows must be 0 or more")) }
                guards.minRows = minRows
            }
            if let fraction = fraction("max_drop_fraction", in: section, problems: &problems) {
                guards.maxDropFraction = fraction
            }
        }
        let maxFailedFraction =
            fraction("max_failed_fraction", in: top, problems: &problems)
            ?? JobDefinition.defaultMaxFailedFraction

        let scheduling = parseScheduling(top, problems: &problems)

        guard problems.isEmpty, let name, let schedule, let model, let sourceQuery else {
            return Outcome(problems: problems)
        }
        let job = JobDefinition(
            name: name, schedule: schedule, timezone: timezone, model: model, sourceQuery: sourceQuery,
            realtime: realtime, experiment: experiment, output: output, guards: guards,
            maxFailedFraction: maxFailedFraction, scheduling: scheduling, file: file, locations: locations)
        return Outcome(job: job, problems: [])
    }

    /// The scheduler's keys, each with its default when absent.
    private static func parseScheduling(_ top: YAMLMapping, problems: inout [CoreError])
        -> JobDefinition.Scheduling
    {
        var scheduling = JobDefinition.Scheduling.default
        if let deadline = top.duration("starting_deadline", problems: &problems) {
            if deadline < .seconds(1) {
                problems.append(top.problem("starting_deadline", "starting_deadline must be at least 1s"))
            }
            scheduling.startingDeadline = deadline
        }
        if let text = top.string("concurrency", required: false, problems: &problems) {
            if let concurrency = JobDefinition.Concurrency(rawValue: text) {
                scheduling.concurrency = concurrency
            } else {
                problems.append(
                    top.problem("concurrency", "unknown concurrency '\(text)'; use forbid, replace or allow"))
            }
        }
        if let section = top.mapping("retries", required: false, problems: &problems) {
            section.checkKeys(known: ["max", "backoff"], problems: &problems)
            if let max = section.integer("max", problems: &problems) {
                if max < 0 { problems.append(section.problem("max", "max must be 0 or more")) }
                scheduling.retries.max = max
            }
            if let backoff = section.duration("backoff", problems: &problems) {
                if backoff < .seconds(1) {
                    problems.append(section.problem("backoff", "backoff must be at least 1s"))
                }
                scheduling.retries.backoff = backoff
            }
        }
        scheduling.suspend = top.boolean("suspend", problems: &problems) ?? false
        if let section = top.mapping("alerts", required: false, problems: &problems) {
            section.checkKeys(known: ["webhook_url"], problems: &problems)
            if let url = section.string("webhook_url", required: false, problems: &problems) {
                let lowered = url.lowercased()
                if !(lowered.hasPrefix("http://") || lowered.hasPrefix("https://")) || url.count < 10 {
                    problems.append(
                        section.problem("webhook_url", "webhook_url must be an http:// or https:// URL"))
                }
                scheduling.webhookURL = url
            }
        }
        if let history = top.duration("history", problems: &problems) {
            if history < .seconds(3_600) {
                problems.append(top.problem("history", "history must be at least 1h"))
            }
            scheduling.history = history
        }
        return scheduling
    }

    /// The `model:` block of a YAML file (a job file, or a file holding only that block); other
    /// top-level keys are ignored, so `prescore model predict --model jobs/x.yaml` works.
    public static func parseModelBlock(_ text: String, file: String, directory: String)
        -> (model: ModelSpec?, problems: [CoreError])
    {
        var problems: [CoreError] = []
        var locations: [String: SourceLocation] = [:]
        guard let root = compose(text, file: file, problems: &problems),
            let top = YAMLMapping(root, file: file, path: "", problems: &problems),
            let block = top.mapping("model", required: true, problems: &problems)
        else { return (nil, problems) }
        let model = parseModel(block, directory: directory, locations: &locations, problems: &problems)
        return (problems.isEmpty ? model : nil, problems)
    }

    private static func compose(_ text: String, file: String, problems: inout [CoreError]) -> Node? {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                problems.append(CoreError(.invalidJobFile, "the file is empty", at: .init(file: file)))
                return nil
            }
            return node
        } catch let error as YamlError {
            problems.append(syntaxProblem(error, file: file))
        } catch {
            problems.append(CoreError(.invalidJobFile, "not YAML: \(error)", at: .init(file: file)))
        }
        return nil
    }

    /// A number from 0 to 1, or nil when absent (a problem is recorded when it is out of range).
    private static func fraction(_ key: String, in section: YAMLMapping, problems: inout [CoreError])
        -> Double?
    {
        guard let value = section.number(key, required: false, problems: &problems) else { return nil }
        guard (0...1).contains(value) else {
            problems.append(section.problem(key, "\(key) must be a number from 0 to 1"))
            return nil
        }
        return value
    }

    /// `[A-Za-z0-9_.-]{1,64}`: Redis keys stay printable, and `PREFIX:JOB:` is unambiguous. With a
    /// ':' allowed, prefix `a` and job `b` would own `a:b:s:5:*`, which also matches the keys of
    /// prefix `a:b:s` and job `5`: one job's clean-up would delete another's scores. Neither part
    /// holds a glob character, so a SCAN pattern built from them matches that job's keys only.
    public static func isValidPrefix(_ prefix: String) -> Bool {
        (1...64).contains(prefix.utf8.count)
            && prefix.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || "_.-".utf8.contains(byte)
            }
    }

    /// `[a-z0-9][a-z0-9_-]{0,62}`.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        func allowed(_ byte: UInt8, first: Bool) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || (!first && (byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")))
        }
        guard (1...63).contains(bytes.count), allowed(bytes[0], first: true) else { return false }
        return bytes.dropFirst().allSatisfy { allowed($0, first: false) }
    }

    private static func parseModel(
        _ model: YAMLMapping, directory: String, locations: inout [String: SourceLocation],
        problems: inout [CoreError]
    ) -> ModelSpec? {
        model.checkKeys(known: modelKeys, problems: &problems)
        guard let kind = model.string("kind", required: true, problems: &problems) else { return nil }
        // A remote model's version is the server's (optional); the others' is required.
        let version = model.string("version", required: kind != "remote", problems: &problems)
        func refuse(_ keys: [String]) {
            for key in keys where model.value(key) != nil {
                problems.append(model.problem(key, "'\(key)' does not apply to kind \(kind)"))
            }
        }
        switch kind {
        case "remote":
            refuse(["path", "intercept", "weights", "link"])
            return parseRemoteModel(model, version: version, problems: &problems).map { .remote($0) }
        case "xgboost-json":
            refuse(["intercept", "weights", "link"] + remoteModelKeys)
            locations["model.path"] = model.location("path")
            guard let path = model.string("path", required: true, problems: &problems), let version
            else { return nil }
            let resolved = URL(
                fileURLWithPath: path, relativeTo: URL(fileURLWithPath: directory, isDirectory: true)
            )
            .standardizedFileURL.path
            return .xgboostJSON(path: resolved, version: version)
        case "logistic":
            refuse(["path"] + remoteModelKeys)
            let intercept = model.number("intercept", required: true, problems: &problems)
            let linkText = model.string("link", required: false, problems: &problems) ?? "logit"
            let link = LogisticModel.Link(rawValue: linkText)
            if link == nil {
                problems.append(model.problem("link", "unknown link '\(linkText)'; use logit or identity"))
            }
            var features: [(name: String, weight: Double)] = []
            if let weights = model.mapping("weights", required: true, problems: &problems) {
                for entry in weights.entries {
                    guard let weight = entry.value.float, weight.isFinite else {
                        problems.append(CoreError(.invalidJobFile, "expected a number", at: entry.location))
                        continue
                    }
                    features.append((entry.key, weight))
                }
                if weights.entries.isEmpty {
                    problems.append(model.problem("weights", "a logistic model needs at least one weight"))
                }
            }
            guard let intercept, let link, let version, !features.isEmpty else { return nil }
            return .logistic(
                LogisticModel(intercept: intercept, features: features, link: link, version: version))
        default:
            problems.append(
                model.problem("kind", "unknown model kind '\(kind)'; use xgboost-json, logistic or remote"))
            return nil
        }
    }

    private static func syntaxProblem(_ error: YamlError, file: String) -> CoreError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            return CoreError(
                .invalidJobFile, "YAML syntax: \(problem)",
                at: SourceLocation(file: file, line: mark.line, column: mark.column))
        case .composer(_, let problem, let mark, _):
            return CoreError(
                .invalidJobFile, "YAML: \(problem)",
                at: SourceLocation(file: file, line: mark.line, column: mark.column))
        default:
            return CoreError(.invalidJobFile, "YAML: \(error)", at: SourceLocation(file: file))
        }
    }
}
