import PrescoreCore

extension LiftQuery {
    /// Where a report's per-unit values and serving figures come from.
    package enum Source: Equatable {
        /// `prescore.exposures` grouped by unit: any window, one pass over its exposures.
        case exposures
        /// The rollups migration 7 keeps (`prescore.experiment_units`, `experiment_serving`):
        /// only when the window holds every exposure of the experiment, since they are not kept
        /// per time; one row per unit.
        case rollups
    }

    /// `.rollups` when the window starts at or before the experiment's first exposure and ends
    /// after its last; else `.exposures` (also when the experiment has none: nothing to group).
    /// A metric asked for by a `pre_` name is summed from the first exposure like any metric, but
    /// the rollups leave `pre_` outcomes out of `outcomes_from`: such a report groups the exposures.
    func source(on connection: PostgresConnection) throws -> Source {
        guard !metrics.contains(where: { $0.hasPrefix("pre_") }) else { return .exposures }
        let covered = try connection.run(
            """
            SELECT coalesce(\(time: since) <= min(first_at), true) AND max(last_at) < \(time: until)
            FROM prescore.experiment_serving WHERE experiment = \(experiment.name)
            """
        ).scalar
        return covered == "t" ? .rollups : .exposures
    }

    /// `units` from `prescore.experiment_units`. A unit whose outcomes all fall from its first
    /// exposure (covariates aside) to before the window's end takes its values from the unit's
    /// sums; any other (an outcome before its first exposure, or at or past the end) is summed
    /// from `prescore.outcomes` as over raw exposures, so both sources give the same figures.
    func rolledUpUnits(_ metrics: [String]) -> PostgresStatement {
        let summed: PostgresStatement = """
            coalesce(outcomes_from >= first_exposed_at, true) AND coalesce(outcomes_until < \(time: until), true)
            """
        let arm: PostgresStatement =
            "CASE arms WHEN 2 THEN 'realtime' ELSE 'batch' END AS arm, arms = 3 AS both_arms"
        let rows: PostgresStatement = """
            FROM prescore.experiment_units WHERE experiment = \(experiment.name) AND exposures > 0
            """
        var values: PostgresStatement = ""
        for (index, metric) in metrics.enumerated() {
            values = """
                \(values), coalesce((outcome_sums ->> \(metric))::float8, 0) AS \(raw: "y\(index)"),
                coalesce((outcome_sums ->> \("pre_" + metric))::float8, 0) AS \(raw: "x\(index)")
                """
        }
        return """
            exposed AS (
                SELECT key, \(arm), first_exposed_at AS first_at, exposures \(rows) AND NOT (\(summed))
            ), units AS (
                SELECT \(arm), exposures \(values) \(rows) AND (\(summed))
                UNION ALL
                \(summedOutcomes(metrics))
            )
            """
    }

    /// Rows of (arm, source, latency bucket, exposures, summed score age, summed CPU µs).
    func servingStatement(from source: Source) -> PostgresStatement {
        switch source {
        case .rollups:
            """
            SELECT arm, source, latency_bucket, exposures, score_age_s, cpu_us
            FROM prescore.experiment_serving WHERE experiment = \(experiment.name)
            """
        case .exposures:
            """
            SELECT arm, source, floor(ln(greatest(latency_us, 1)) * 50)::int, count(*), sum(score_age_s), sum(cpu_us)
            FROM prescore.exposures WHERE \(window) GROUP BY 1, 2, 3
            """
        }
    }
}
