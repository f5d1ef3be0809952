extension Migration {
    /// Rollups of each experiment kept by triggers on `prescore.exposures` and `prescore.outcomes`:
    /// a lift report over a whole experiment then reads one row per unit (and a few hundred
    /// serving rows) instead of every exposure: 10M exposures took 22 s to group, their rollup reads
    /// in about a second (README "For analysts").
    ///
    /// Inserts (INSERT and COPY alike) are added to the rollups in the same statement, grouped, in
    /// key order so that two writers lock the rows they share in one order. UPDATE, DELETE and
    /// TRUNCATE rebuild the experiments they touch from the tables, holding writers off meanwhile,
    /// because a minimum or a float sum cannot be taken back row by row: exact beats fast for the
    /// rare correction or retention delete.
    static let experimentRollups = Migration(
        version: 7, name: "experiments: per-unit and serving rollups",
        sql: """
            -- One row per unit (key) of an experiment. outcome_sums: metric -> sum of all its outcomes.
            -- outcomes_from: the earliest outcome of a metric that is not a pre_ covariate;
            -- outcomes_until: the latest outcome of any metric. A unit whose outcomes all fall at or
            -- after its first exposure and before a report's end is summed from outcome_sums; any
            -- other is summed from prescore.outcomes by the report.
            CREATE TABLE prescore.experiment_units (
                experiment       text        NOT NULL,
                key              text        NOT NULL,
                arms             smallint    NOT NULL DEFAULT 0,  -- bit 1: batch, bit 2: realtime
                exposures        bigint      NOT NULL DEFAULT 0,
                first_exposed_at timestamptz,
                last_exposed_at  timestamptz,
                outcome_sums     jsonb       NOT NULL DEFAULT '{}',
                outcomes_from    timestamptz,
                outcomes_until   timestamptz,
                PRIMARY KEY (experiment, key)
            );
            -- Exposures per arm, source and latency bucket (floor(ln(max(latency_us, 1)) * 50)):
            -- counts and sums for the report's serving figures, and the span of the experiment's
            -- exposures, which tells a report whether its window covers them all.
            CREATE TABLE prescore.experiment_serving (
                experiment     text             NOT NULL,
                arm            text             NOT NULL,
                source         text             NOT NULL,
                latency_bucket integer          NOT NULL,
                exposures      bigint           NOT NULL,
                score_age_s    double precision NOT NULL,
                cpu_us         bigint           NOT NULL,
                first_at       timestamptz      NOT NULL,
                last_at        timestamptz      NOT NULL,
                PRIMARY KEY (experiment, arm, source, latency_bucket)
            );

            -- The statements adding the exposures of relation `source` to the rollups.
            CREATE FUNCTION prescore.exposure_rollup_statements(source text) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
                SELECT ARRAY[format($f$
                    INSERT INTO prescore.experiment_units AS u
                        (experiment, key, arms, exposures, first_exposed_at, last_exposed_at)
                    SELECT experiment, key, bit_or(CASE arm WHEN 'batch' THEN 1 ELSE 2 END)::smallint,
                           count(*), min(at), max(at)
                    FROM %1$s AS x GROUP BY experiment, key ORDER BY experiment, key
                    ON CONFLICT (experiment, key) DO UPDATE SET
                        arms = u.arms | excluded.arms, exposures = u.exposures + excluded.exposures,
                        first_exposed_at = least(u.first_exposed_at, excluded.first_exposed_at),
                        last_exposed_at = greatest(u.last_exposed_at, excluded.last_exposed_at)
                    $f$, source), format($f$
                    INSERT INTO prescore.experiment_serving AS s
                    SELECT experiment, arm, source, floor(ln(greatest(latency_us, 1)) * 50)::int,
                           count(*), sum(score_age_s), sum(cpu_us), min(at), max(at)
                    FROM %1$s AS x GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
                    ON CONFLICT (experiment, arm, source, latency_bucket) DO UPDATE SET
                        exposures = s.exposures + excluded.exposures,
                        score_age_s = s.score_age_s + excluded.score_age_s, cpu_us = s.cpu_us + excluded.cpu_us,
                        first_at = least(s.first_at, excluded.first_at), last_at = greatest(s.last_at, excluded.last_at)
                    $f$, source)]
            $$;

            -- The statement adding the outcomes of relation `source` to the rollups.
            CREATE FUNCTION prescore.outcome_rollup_statements(source text) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
                SELECT ARRAY[format($f$
                    INSERT INTO prescore.experiment_units AS u (experiment, key, outcome_sums, outcomes_from, outcomes_until)
                    SELECT experiment, key, jsonb_object_agg(metric, total),
                           min(first_at) FILTER (WHERE metric NOT LIKE 'pre\\_%%'), max(last_at)
                    FROM (SELECT experiment, key, metric, sum(value) AS total, min(at) AS first_at, max(at) AS last_at
                          FROM %1$s AS x GROUP BY 1, 2, 3) AS m
                    GROUP BY experiment, key ORDER BY experiment, key
                    ON CONFLICT (experiment, key) DO UPDATE SET
                        outcome_sums = u.outcome_sums || (
                            SELECT jsonb_object_agg(metric, total::float8 + coalesce((u.outcome_sums ->> metric)::float8, 0))
                            FROM jsonb_each_text(excluded.outcome_sums) AS added (metric, total)),
                        outcomes_from = least(u.outcomes_from, excluded.outcomes_from),
                        outcomes_until = greatest(u.outcomes_until, excluded.outcomes_until)
                    $f$, source)]
            $$;

            -- Recomputes the rollups of `experiments` from the tables. Writers of either table wait
            -- until the transaction ends, so that no row is counted twice or missed.
            CREATE FUNCTION prescore.rebuild_experiment_rollups(experiments text[]) RETURNS void LANGUAGE plpgsql AS $$
            DECLARE
                statement text;
            BEGIN
                LOCK TABLE prescore.exposures, prescore.outcomes IN SHARE ROW EXCLUSIVE MODE;
                DELETE FROM prescore.experiment_units WHERE experiment = ANY (experiments);
                DELETE FROM prescore.experiment_serving WHERE experiment = ANY (experiments);
                FOREACH statement IN ARRAY
                    prescore.exposure_rollup_statements('(SELECT * FROM prescore.exposures WHERE experiment = ANY ($1))')
                    || prescore.outcome_rollup_statements('(SELECT * FROM prescore.outcomes WHERE experiment = ANY ($1))')
                LOOP
                    EXECUTE statement USING experiments;
                END LOOP;
            END
            $$;

            -- One trigger function per table: TG_ARGV[0] names the table's statements.
            CREATE FUNCTION prescore.roll_up_experiments() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                statement text;
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    FOREACH statement IN ARRAY CASE TG_ARGV[0]
                        WHEN 'exposures' THEN prescore.exposure_rollup_statements('new_rows')
                        ELSE prescore.outcome_rollup_statements('new_rows') END
                    LOOP
                        EXECUTE statement;
                    END LOOP;
                ELSIF TG_OP = 'DELETE' THEN
                    PERFORM prescore.rebuild_experiment_rollups(ARRAY(SELECT DISTINCT experiment FROM old_rows));
                ELSIF TG_OP = 'UPDATE' THEN
                    PERFORM prescore.rebuild_experiment_rollups(
                        ARRAY(SELECT experiment FROM old_rows UNION SELECT experiment FROM new_rows));
                ELSE
                    PERFORM prescore.rebuild_experiment_rollups(
                        ARRAY(SELECT DISTINCT experiment FROM prescore.experiment_units));
                END IF;
                RETURN NULL;
            END
            $$;

            \(rollupTriggers)

            -- Experiments recorded before this migration.
            SELECT prescore.rebuild_experiment_rollups(
                ARRAY(SELECT experiment FROM prescore.exposures UNION SELECT experiment FROM prescore.outcomes));
            """)

    /// The triggers of both tables: inserts add to the rollups; updates, deletes and truncates
    /// rebuild them (`roll_up_experiments` tells the tables apart by its argument).
    private static let rollupTriggers = ["exposures", "outcomes"].map { table in
        """
        CREATE TRIGGER \(table)_inserted AFTER INSERT ON prescore.\(table)
            REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION prescore.roll_up_experiments('\(table)');
        CREATE TRIGGER \(table)_updated AFTER UPDATE ON prescore.\(table)
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION prescore.roll_up_experiments('\(table)');
        CREATE TRIGGER \(table)_deleted AFTER DELETE ON prescore.\(table)
            REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION prescore.roll_up_experiments('\(table)');
        CREATE TRIGGER \(table)_truncated AFTER TRUNCATE ON prescore.\(table)
            FOR EACH STATEMENT EXECUTE FUNCTION prescore.roll_up_experiments('\(table)');
        """
    }.joined(separator: "\n")
}
