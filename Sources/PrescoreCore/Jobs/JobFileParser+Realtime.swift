import Yams

extension JobFileParser {
    static let realtimeKeys = ["query", "timeout", "on_failure", "max_in_flight", "max_queued", "breaker"]
    static let breakerKeys = ["failure_ratio", "window", "minimum_calls", "cool_down", "trial_calls"]

    /// `realtime:`: the one-entity query of the fallback and its guards (deadline, bulkhead,
    /// breaker, what a failure answers).
    static func parseRealtime(
        _ section: YAMLMapping, locations: inout [String: SourceLocation], problems: inout [CoreError]
    ) -> JobDefinition.Realtime? {
        section.checkKeys(known: realtimeKeys, problems: &problems)
        locations["realtime.query"] = section.location("query")
        let query = section.query("query", problems: &problems)
        let timeout = section.duration("timeout", problems: &problems) ?? JobDefinition.defaultRealtimeTimeout
        if timeout <= .zero {
            problems.append(section.problem("timeout", "the timeout must be longer than 0"))
        }
        guard let query else { return nil }
        var realtime = JobDefinition.Realtime(query: query, timeout: timeout)
        realtime.onFailure = parseOnFailure(section, problems: &problems)
        for (key, range, path) in [
            ("max_in_flight", 1...10_000, \JobDefinition.Realtime.maxInFlight),
            ("max_queued", 0...100_000, \JobDefinition.Realtime.maxQueued),
        ] {
            guard let value = section.integer(key, problems: &problems) else { continue }
            if range.contains(value) {
                realtime[keyPath: path] = value
            } else {
                problems.append(
                    section.problem(key, "\(key) must be \(range.lowerBound) to \(range.upperBound)"))
            }
        }
        if let breaker = section.mapping("breaker", required: false, problems: &problems) {
            realtime.breaker = parseBreaker(breaker, problems: &problems)
        }
        return realtime
    }

    /// `on_failure: error` (the default) or `on_failure: {default_score: X}`.
    static func parseOnFailure(_ section: YAMLMapping, problems: inout [CoreError]) -> JobDefinition.OnFailure
    {
        guard let node = section.value("on_failure") else { return .error }
        if case .mapping = node,
            let mapping = section.mapping("on_failure", required: false, problems: &problems)
        {
            mapping.checkKeys(known: ["default_score"], problems: &problems)
            guard let score = mapping.number("default_score", required: true, problems: &problems) else {
                return .error
            }
            guard score.isFinite, abs(score) <= Double(Float.greatestFiniteMagnitude) else {
                problems.append(mapping.problem("default_score", "default_score must be a finite number"))
                return .error
            }
            return .defaultScore(Float(score))
        }
        if node.string == "error" { return .error }
        problems.append(
            section.problem("on_failure", "on_failure must be 'error' or {default_score: NUMBER}"))
        return .error
    }

    static func parseBreaker(_ section: YAMLMapping, problems: inout [CoreError]) -> CircuitBreaker.Settings {
        section.checkKeys(known: breakerKeys, problems: &problems)
        var settings = CircuitBreaker.Settings()
        if let ratio = section.number("failure_ratio", required: false, problems: &problems) {
            if ratio > 0, ratio <= 1 {
                settings.failureRatio = ratio
            } else {
                problems.append(
                    section.problem("failure_ratio", "failure_ratio must be above 0 and at most 1"))
            }
        }
        for (key, path) in [
            ("window", \CircuitBreaker.Settings.window),
            ("minimum_calls", \CircuitBreaker.Settings.minimumCalls),
            ("trial_calls", \CircuitBreaker.Settings.trialCalls),
        ] {
            guard let value = section.integer(key, problems: &problems) else { continue }
            if (1...100_000).contains(value) {
                settings[keyPath: path] = value
            } else {
                problems.append(section.problem(key, "\(key) must be 1 to 100000"))
            }
        }
        if let coolDown = section.duration("cool_down", problems: &problems) {
            if coolDown >= .milliseconds(1) {
                settings.coolDown = coolDown
            } else {
                problems.append(section.problem("cool_down", "cool_down must be longer than 0"))
            }
        }
        return settings
    }
}
