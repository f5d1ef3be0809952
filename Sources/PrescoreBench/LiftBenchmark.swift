import ArgumentParser
import Foundation
import PrescoreCore
import PrescorePostgres

/// The served lift report over a large experiment (issue target: 10M exposures, 1M units, ≤ 3 s),
/// against PostgreSQL's own floor measured in the same run: grouping the exposures by unit, the
/// least any per-unit report over raw exposures must do.
struct LiftBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lift",
        abstract: "The lift report's time over N exposures and M units, versus a GROUP BY.")

    @Option(help: "Exposures to generate.") var exposures = 10_000_000
    @Option(help: "Units (entities) they fall on; 10% in the realtime arm.") var units = 1_000_000
    @Option(name: .customLong("repeat"), help: "Timed repetitions; the best counts.") var repetitions = 2

    func run() throws {
        // A database of its own: the generated experiment never meets real exposures.
        let admin = try PostgresConnection(url: BenchSupport.databaseURL)
        try admin.execute("DROP DATABASE IF EXISTS prescore_lift_bench WITH (FORCE)")
        try admin.execute("CREATE DATABASE prescore_lift_bench")
        var url = URLComponents(string: BenchSupport.databaseURL)!
        url.path = "/prescore_lift_bench"
        let connection = try PostgresConnection(url: url.string!)
        try Migrator().migrate(connection)
        let generated = try BenchSupport.bestSeconds(repetitions: 1) { try generate(connection) }
        let experiment = Experiment(
            name: "bench", salt: "bench", weights: [.batch: 90, .realtime: 10], valuePerUnit: 40,
            cpuHourUSD: 0.04)
        let query = LiftQuery(
            experiment: experiment, job: "bench", metrics: ["converted", "revenue"],
            until: Date(timeIntervalSince1970: 1_900_000_000))
        var report: LiftReport?
        let ours = try BenchSupport.bestSeconds(repetitions: repetitions) {
            report = try query.report(on: connection)
        }
        let raw = try BenchSupport.bestSeconds(repetitions: repetitions) {
            _ = try query.report(from: .exposures, on: connection)
        }
        let floor = try BenchSupport.bestSeconds(repetitions: repetitions) {
            try connection.execute(
                """
                SET work_mem = '256MB'; SET jit = off;
                SELECT count(*) FROM (SELECT key, count(*) FROM prescore.exposures GROUP BY key) AS units;
                RESET work_mem; RESET jit
                """)
        }
        // Last: recording without the insert trigger leaves the rollups behind the table.
        let recorded = try recordingMicros(connection)
        try connection.execute("ALTER TABLE prescore.exposures DISABLE TRIGGER exposures_inserted")
        let recordedBare = try recordingMicros(connection)
        func seconds(_ value: Double) -> String { String(format: "%.2f", value) }
        print(
            """

            lift benchmark: \(exposures) exposures on \(units) units, 2 metrics with a CUPED covariate \
            (generated in \(seconds(generated)) s, the rollup triggers included)
              prescore lift report from the rollups:             \(seconds(ours)) s   (target ≤ 3 s)
              the same report grouping the raw exposures:        \(seconds(raw)) s
              PostgreSQL GROUP BY unit over the exposures alone: \(seconds(floor)) s
              recording exposures (COPY of 5,000 on random units): \(String(format: "%.1f", recorded)) µs \
            each with the rollup trigger, \(String(format: "%.1f", recordedBare)) µs without
              ratio report / GROUP BY: \(String(format: "%.2f", ours / floor))x; \
            units \(report?.arms.map { "\($0.arm) \($0.units)" }.joined(separator: ", ") ?? "")
            """)
        try admin.execute("DROP DATABASE prescore_lift_bench WITH (FORCE)")
    }

    /// Wall time per exposure of 20 COPYs of 5,000 exposures on random units, as serve's recorder
    /// writes them: what the rollups cost PostgreSQL on the write path.
    func recordingMicros(_ connection: PostgresConnection) throws -> Double {
        var generator = SystemRandomNumberGenerator()
        let batches = (0..<20).map { _ in
            (0..<5_000).map { _ in
                let unit = Int.random(in: 1...units, using: &generator)
                let arm = unit % 10 == 0 ? "realtime" : "batch"
                return "bench\tbench\t\(arm)\t\(unit)\t0.5\t\(arm)\t250\t3600\t0\t2026-12-06 12:00:00+00\n"
            }.joined()
        }
        let start = ContinuousClock.now
        for batch in batches { _ = try ExperimentTables.writeExposures(Array(batch.utf8), on: connection) }
        return (ContinuousClock.now - start).totalSeconds * 1e6 / 100_000
    }

    /// Exposures spread over 6 days, 10% of units in the realtime arm; outcomes for some units
    /// (converted 30%, revenue 50%) after the exposures, pre_revenue for all before them.
    func generate(_ connection: PostgresConnection) throws {
        try connection.execute(
            """
            INSERT INTO prescore.exposures (experiment, job, arm, key, score, source, latency_us, score_age_s, cpu_us, at)
            SELECT 'bench', 'bench', a.arm, u::text, 0.5, a.arm, 200 + (g % 997), 3600,
                   CASE WHEN a.arm = 'realtime' THEN 300 ELSE 0 END,
                   timestamptz '2026-12-01' + g * (interval '6 days' / \(exposures))
            FROM generate_series(1, \(exposures)) AS g,
                 LATERAL (SELECT (g % \(units)) + 1 AS u) AS x,
                 LATERAL (SELECT CASE WHEN u % 10 = 0 THEN 'realtime' ELSE 'batch' END AS arm) AS a;
            INSERT INTO prescore.outcomes (experiment, key, metric, value, at)
            SELECT 'bench', u::text, 'converted', (random() < 0.1)::int, timestamptz '2026-12-07 23:00'
            FROM generate_series(1, \(units)) AS u WHERE random() < 0.3;
            INSERT INTO prescore.outcomes (experiment, key, metric, value, at)
            SELECT 'bench', u::text, 'revenue', random() * 100, timestamptz '2026-12-07 23:00'
            FROM generate_series(1, \(units)) AS u WHERE random() < 0.5;
            INSERT INTO prescore.outcomes (experiment, key, metric, value, at)
            SELECT 'bench', u::text, 'pre_revenue', random() * 100, timestamptz '2026-11-01'
            FROM generate_series(1, \(units)) AS u
            """)
        try connection.execute("VACUUM ANALYZE prescore.exposures")
        try connection.execute("VACUUM ANALYZE prescore.outcomes")
        // As autovacuum would after a bulk load: the triggers updated every unit's row 3 times.
        try connection.execute("VACUUM ANALYZE prescore.experiment_units")
    }
}
