extension JobFileParser {
    static let experimentKeys = ["name", "salt", "arms", "value_per_unit", "cost"]

    /// `experiment: {name, salt, arms: {batch: 90, realtime: 10}, value_per_unit, cost: {cpu_hour_usd}}`.
    /// `salt` defaults to the name; a `realtime` arm with weight needs the job's `realtime:` query.
    static func parseExperiment(
        _ section: YAMLMapping, hasRealtime: Bool, problems: inout [CoreError]
    ) -> Experiment? {
        section.checkKeys(known: experimentKeys, problems: &problems)
        let name = section.string("name", required: true, problems: &problems)
        if let name, !isValidName(name) {
            problems.append(
                section.problem(
                    "name",
                    "'\(name)' is not a valid experiment name: use 1 to 63 characters a-z, 0-9, '_' and '-'"))
        }
        let salt = section.string("salt", required: false, problems: &problems) ?? name
        var weights: [Experiment.Arm: Int] = [:]
        if let arms = section.mapping("arms", required: true, problems: &problems) {
            arms.checkKeys(known: Experiment.Arm.allCases.map(\.rawValue), problems: &problems)
            for arm in Experiment.Arm.allCases {
                guard arms.value(arm.rawValue) != nil else {
                    problems.append(arms.problem(arm.rawValue, "arms needs a weight for \(arm.rawValue)"))
                    continue
                }
                guard let weight = arms.integer(arm.rawValue, problems: &problems) else { continue }
                if !(0...1_000_000).contains(weight) {
                    problems.append(arms.problem(arm.rawValue, "a weight must be 0 to 1000000"))
                }
                weights[arm] = weight
            }
            if weights.count == 2, weights.values.reduce(0, +) == 0 {
                problems.append(section.problem("arms", "at least one arm needs a weight above 0"))
            }
            if (weights[.realtime] ?? 0) > 0, !hasRealtime {
                problems.append(
                    arms.problem(
                        "realtime", "the realtime arm is scored by the job's realtime query: add realtime:"))
            }
        }
        let value = section.number("value_per_unit", required: false, problems: &problems)
        if let value, !(value.isFinite && value >= 0) {
            problems.append(section.problem("value_per_unit", "value_per_unit must be a number, 0 or more"))
        }
        var price: Double?
        if let cost = section.mapping("cost", required: false, problems: &problems) {
            cost.checkKeys(known: ["cpu_hour_usd"], problems: &problems)
            price = cost.number("cpu_hour_usd", required: true, problems: &problems)
            if let price, !(price.isFinite && price > 0) {
                problems.append(cost.problem("cpu_hour_usd", "cpu_hour_usd must be a number above 0"))
            }
        }
        guard let name, let salt, weights.count == 2 else { return nil }
        return Experiment(name: name, salt: salt, weights: weights, valuePerUnit: value, cpuHourUSD: price)
    }
}
