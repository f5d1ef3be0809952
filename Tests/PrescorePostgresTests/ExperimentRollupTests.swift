import Foundation
import PrescoreCore
import PrescoreTestSupport
import Synchronization
import Testing

@testable import PrescorePostgres

/// Migration 7's rollups on the real PostgreSQL: a report read from them equals the report that
/// groups the raw exposures, through inserts, COPY, updates, deletes, truncates and two writers.
@Suite struct ExperimentRollupTests {
    static let experiment = Experiment(
        name: "roll", salt: "s", weights: [.batch: 80, .realtime: 20], valuePerUnit: 2, cpuHourUSD: 0.04)
    /// After every exposure, before the late outcomes.
    static let until = Date(timeIntervalSince1970: 1_795_910_400)  // 2026-11-29

    /// 300 units, 3,000 exposures in three INSERTs and a COPY (units 1–20 in both arms), outcomes
    /// after the exposures (revenue in two statements for units 1–150), some before them (units
    /// ≡ 0 mod 7) and past `until` (≡ 0 mod 11), covariates before them, and outcomes of units
    /// never exposed.
    func generate(_ connection: PostgresConnection) throws {
        try connection.execute("SELECT setseed(0.42)")
        for part in 0..<3 {
            try connection.execute(
                """
                INSERT INTO prescore.exposures (experiment, job, arm, key, score, source, latency_us, score_age_s, cpu_us, at)
                SELECT 'roll', 'j', CASE WHEN u % 5 = 0 OR (u <= 20 AND g % 2 = 0) THEN 'realtime' ELSE 'batch' END,
                       u::text, random(), (ARRAY['batch', 'realtime', 'default'])[1 + g % 3],
                       (random() * 5000)::int, random() * 100, (random() * 300)::int,
                       timestamptz '2026-11-01' + random() * interval '20 days'
                FROM generate_series(1, 800) AS g, LATERAL (SELECT 1 + (g * 7 + \(part)) % 300 AS u) AS x
                """)
        }
        var copy = ""
        for row in 0..<600 {
            let key = 1 + row % 300
            let arm = key % 5 == 0 ? "realtime" : "batch"
            copy +=
                "roll\tj\t\(arm)\t\(key)\t0.5\tbatch\t\(100 + row)\t1.5\t0\t2026-11-\(10 + row % 10) 12:00:00+00\n"
        }
        _ = try ExperimentTables.writeExposures(Array(copy.utf8), on: connection)
        try connection.execute(
            """
            INSERT INTO prescore.outcomes (experiment, key, metric, value, at)
            SELECT 'roll', u::text, 'converted', (random() < 0.3)::int, timestamptz '2026-11-25' FROM generate_series(1, 320) AS u;
            INSERT INTO prescore.outcomes (experiment, key, metric, value, at)
            SELECT 'roll', u::text, 'revenue', random() * 100,
                   CASE WHEN u % 7 = 0 THEN timestamptz '2026-10-20' WHEN u % 11 = 0 THEN timestamptz '2026-12-01'
                        ELSE timestamptz '2026-11-26' END
            FROM generate_series(1, 300) AS u, generate_series(1, 2);
            INSERT INTO prescore.outcomes (experiment, key, metric, value, at)
            SELECT 'roll', u::text, 'revenue', random() * 10, timestamptz '2026-11-27' FROM generate_series(1, 150) AS u;
            INSERT INTO prescore.outcomes (experiment, key, metric, value, at)
            SELECT 'roll', u::text, 'pre_revenue', random() * 50, timestamptz '2026-10-01' FROM generate_series(1, 300) AS u
            """)
    }

    /// The figures of both reports alike to 1e-9 relative (float sums taken in other orders).
    func expectSameReports(
        _ connection: PostgresConnection, sourceLocation: Testing.SourceLocation = #_sourceLocation
    )
        throws
    {
        let query = LiftQuery(
            experiment: Self.experiment, job: "j", metrics: ["converted", "revenue"], until: Self.until)
        #expect(try query.source(on: connection) == .rollups, sourceLocation: sourceLocation)
        let rolled = try JSONSerialization.jsonObject(
            with: Data(query.report(from: .rollups, on: connection).json.utf8))
        let raw = try JSONSerialization.jsonObject(
            with: Data(query.report(from: .exposures, on: connection).json.utf8))
        Self.expectAlike(rolled, raw, at: "report", sourceLocation: sourceLocation)
        let stale = try connection.execute(
            """
            SELECT (SELECT count(*) FROM (
                    SELECT experiment, key, arms, exposures, first_exposed_at, last_exposed_at
                    FROM prescore.experiment_units WHERE exposures > 0
                    EXCEPT
                    SELECT experiment, key, bit_or(CASE arm WHEN 'batch' THEN 1 ELSE 2 END)::smallint, count(*), min(at), max(at)
                    FROM prescore.exposures GROUP BY 1, 2) AS units)
                 + (SELECT count(*) FROM (
                    SELECT experiment, arm, source, latency_bucket, exposures, cpu_us FROM prescore.experiment_serving
                    EXCEPT
                    SELECT experiment, arm, source, floor(ln(greatest(latency_us, 1)) * 50)::int, count(*), sum(cpu_us)
                    FROM prescore.exposures GROUP BY 1, 2, 3, 4) AS serving)
            """
        ).scalar
        #expect(stale == "0", "rollup rows unlike the tables", sourceLocation: sourceLocation)
    }

    static func expectAlike(_ a: Any, _ b: Any, at path: String, sourceLocation: Testing.SourceLocation) {
        switch (a, b) {
        case (let x as [String: Any], let y as [String: Any]):
            #expect(Set(x.keys) == Set(y.keys), "\(path)", sourceLocation: sourceLocation)
            for (key, value) in x where y[key] != nil {
                expectAlike(value, y[key]!, at: "\(path).\(key)", sourceLocation: sourceLocation)
            }
        case (let x as [Any], let y as [Any]):
            #expect(x.count == y.count, "\(path)", sourceLocation: sourceLocation)
            for (index, (p, q)) in zip(x, y).enumerated() {
                expectAlike(p, q, at: "\(path)[\(index)]", sourceLocation: sourceLocation)
            }
        case (let x as NSNumber, let y as NSNumber):
            let (p, q) = (x.doubleValue, y.doubleValue)
            #expect(
                abs(p - q) <= 1e-9 * max(1, abs(p)), "\(path): \(p) vs \(q)", sourceLocation: sourceLocation)
        default:
            #expect("\(a)" == "\(b)", "\(path)", sourceLocation: sourceLocation)
        }
    }

    @Test func rollupsGiveTheFiguresOfTheRawExposures() throws {
        try TestServers.withTemporaryDatabase { url in
            let connection = try PostgresConnection(url: url)
            try Migrator().migrate(connection)
            try generate(connection)
            try expectSameReports(connection)
            // The per-unit fallback ran: units with an outcome before their first exposure or
            // past the window's end, and units in both arms.
            let units =
                try connection.execute(
                    """
                    SELECT count(*) FILTER (WHERE outcomes_from < first_exposed_at), count(*) FILTER (WHERE outcomes_until >= $1::timestamptz),
                           count(*) FILTER (WHERE arms = 3), count(*) FILTER (WHERE exposures = 0)
                    FROM prescore.experiment_units
                    """, ["2026-11-29 00:00:00+00"]
                ).rows.first ?? []
            #expect(units.allSatisfy { (Int($0 ?? "") ?? 0) > 0 }, "\(units)")
        }
    }

    @Test func aWindowShortOfTheWholeExperimentGroupsTheExposures() throws {
        try TestServers.withTemporaryDatabase { url in
            let connection = try PostgresConnection(url: url)
            try Migrator().migrate(connection)
            let empty = LiftQuery(experiment: Self.experiment, job: "j", until: Self.until)
            #expect(try empty.source(on: connection) == .exposures)
            try generate(connection)
            for (since, until) in [
                (Date(timeIntervalSince1970: 1_793_836_800), Self.until),  // 2026-11-05: after the first exposure
                (nil, Date(timeIntervalSince1970: 1_794_700_800)),  // 2026-11-15: before the last
            ] {
                let query = LiftQuery(experiment: Self.experiment, job: "j", since: since, until: until)
                #expect(try query.source(on: connection) == .exposures)
            }
            let early = LiftQuery(
                experiment: Self.experiment, job: "j", since: Date(timeIntervalSince1970: 0),
                until: Self.until)
            #expect(try early.source(on: connection) == .rollups)
            let covariateAsMetric = LiftQuery(
                experiment: Self.experiment, job: "j", metrics: ["pre_revenue"], until: Self.until)
            #expect(try covariateAsMetric.source(on: connection) == .exposures)
        }
    }

    @Test func updatesDeletesAndTruncatesRebuildTheRollups() throws {
        try TestServers.withTemporaryDatabase { url in
            let connection = try PostgresConnection(url: url)
            try Migrator().migrate(connection)
            try generate(connection)
            try connection.execute(
                "DELETE FROM prescore.exposures WHERE key IN ('1', '2', '3') OR latency_us < 500")
            try expectSameReports(connection)
            try connection.execute("UPDATE prescore.exposures SET arm = 'realtime' WHERE key = '4'")
            try connection.execute(
                "UPDATE prescore.outcomes SET value = value * 2, at = at - interval '40 days' WHERE key LIKE '1%'"
            )
            try connection.execute(
                "DELETE FROM prescore.outcomes WHERE key LIKE '2%' AND metric = 'converted'")
            try expectSameReports(connection)
            try connection.execute("TRUNCATE prescore.outcomes")
            #expect(
                try connection.execute(
                    "SELECT count(*) FROM prescore.experiment_units WHERE outcome_sums <> '{}'"
                ).scalar == "0")
            try expectSameReports(connection)
            try connection.execute("TRUNCATE prescore.exposures")
            #expect(try connection.execute("SELECT count(*) FROM prescore.experiment_units").scalar == "0")
            #expect(try connection.execute("SELECT count(*) FROM prescore.experiment_serving").scalar == "0")
        }
    }

    /// Two writers COPY batches over the same units in opposite key orders while a third deletes:
    /// no deadlock, no lost or doubled count.
    @Test func concurrentWritersNeitherDeadlockNorMiscount() throws {
        try TestServers.withTemporaryDatabase { url in
            let setup = try PostgresConnection(url: url)
            try Migrator().migrate(setup)
            try generate(setup)
            let failures = Mutex<[String]>([])
            let done = DispatchGroup()
            for writer in 0..<3 {
                done.enter()
                Thread {
                    defer { done.leave() }
                    do {
                        let connection = try PostgresConnection(url: url)
                        for batch in 0..<30 {
                            if writer == 2 {
                                if batch % 10 == 5 {
                                    try connection.execute(
                                        "DELETE FROM prescore.exposures WHERE key = '\(batch)'")
                                }
                                continue
                            }
                            let keys = writer == 0 ? Array(1...120) : Array((1...120).reversed())
                            let text = keys.map {
                                "roll\tj\t\(writer == 0 ? "batch" : "realtime")\t\($0)\t0.5\tbatch\t\(batch + 1)\t1\t0\t2026-11-15 00:00:00+00\n"
                            }.joined()
                            _ = try ExperimentTables.writeExposures(Array(text.utf8), on: connection)
                        }
                    } catch {
                        failures.withLock { $0.append("writer \(writer): \(error)") }
                    }
                }.start()
            }
            done.wait()
            #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
            try expectSameReports(setup)
        }
    }
}
