import Foundation
import PrescoreCore
import PrescorePostgres
import PrescoreTestSupport
import Testing

/// Experiments through the real `prescore serve` process: arms as the documented hash assigns
/// them, exposures recorded (and spooled while PostgreSQL is away, none lost), outcomes behind the
/// bearer token, and the lift report served and printed alike.
@Suite struct ExperimentProcessTests {
    static let token = "test-token-5f1c"

    static func experimentBlock(_ name: String, batch: Int = 50, realtime: Int = 50) -> String {
        """
        experiment:
          name: \(name)
          salt: s1
          arms: {batch: \(batch), realtime: \(realtime)}
          value_per_unit: 2.5
          cost: {cpu_hour_usd: 0.05}
        """
    }

    static func exposures(_ fixture: BatchRunFixture) throws -> Int {
        Int(try fixture.database.execute("SELECT count(*) FROM prescore.exposures").scalar ?? "") ?? -1
    }

    /// A counter's value on `serve`'s `/metrics`, 0 when absent.
    static func counter(_ metric: String, of serve: ServeProcess) -> Int {
        let line = (serve.get("/metrics")?.body ?? "").split(separator: "\n").first {
            $0.hasPrefix(metric + " ")
        }
        return Int(line?.split(separator: " ").last ?? "") ?? 0
    }

    @Test func armsExposuresSpoolOutcomesAndTheReport() throws {
        let name = TestServers.uniqueName("e")
        let extra =
            BatchRunFixture.realtime(more: "on_failure: {default_score: -1}") + "\n"
            + Self.experimentBlock(name)
        try BatchRunFixture.with(extra: extra) { fixture in
            #expect(try fixture.run().status == 0)
            let experiment = Experiment(name: name, salt: "s1", weights: [.batch: 50, .realtime: 50])
            let (proxy, proxied) = try fixture.databaseProxy()
            defer { proxy.stop() }
            let serve = try ServeProcess(
                fixture, databaseURL: proxied, environment: ["PRESCORE_API_TOKEN": Self.token])
            defer { _ = serve.stop() }
            #expect(serve.waitReady(), "\(serve.output)")

            // Each entity answered from its arm: batch from the run, realtime scored fresh.
            for key in 1...200 {
                let answer = ServeProcess.object(serve.get("/v1/scores/\(fixture.job)/\(key)"))
                let expected = experiment.arm(of: String(key)) == .realtime ? "realtime" : "batch"
                #expect(answer["source"] as? String == expected, "\(key)")
                #expect(answer["score"] as? Double == Double(key) / 1000)
            }
            let keys = (201...260).map { "\"\($0)\"" }.joined(separator: ",")
            let results = try #require(
                ServeProcess.object(serve.post("/v1/scores/\(fixture.job)/batch", "{\"keys\": [\(keys)]}"))[
                    "results"]
                    as? [[String: Any]])
            for result in results {
                let key = try #require(result["key"] as? String)
                #expect(
                    result["source"] as? String
                        == (experiment.arm(of: key) == .realtime ? "realtime" : "batch"))
            }
            #expect(poll(seconds: 10) { (try? Self.exposures(fixture)) == 260 }, "\(serve.output)")
            let recorded = try fixture.database.execute(
                "SELECT key, arm, source, job, experiment, cpu_us FROM prescore.exposures")
            for row in recorded.rows {
                let arm = experiment.arm(of: row[0]!).rawValue
                #expect(row[1] == arm && row[2] == arm && row[3] == fixture.job && row[4] == name, "\(row)")
            }
            #expect(
                recorded.rows.contains { $0[2] == "realtime" && Int($0[5]!)! > 0 }, "realtime CPU is measured"
            )

            // PostgreSQL away: answers go on (batch from Redis, realtime the default), exposures spool.
            proxy.cut()
            for key in 300..<350 {
                let source =
                    ServeProcess.object(serve.get("/v1/scores/\(fixture.job)/\(key)"))["source"] as? String
                #expect(source == (experiment.arm(of: String(key)) == .realtime ? "default" : "batch"))
            }
            #expect(
                poll(seconds: 10) {
                    (try? FileManager.default.contentsOfDirectory(atPath: serve.spool.path))?
                        .contains { $0.hasSuffix(".copy") } == true
                }, "\(serve.output)")
            #expect(try Self.exposures(fixture) == 260)
            proxy.resume()
            #expect(poll(seconds: 20) { (try? Self.exposures(fixture)) == 310 }, "\(serve.output)")
            #expect(
                poll(seconds: 5) {
                    (try? FileManager.default.contentsOfDirectory(atPath: serve.spool.path))?
                        .contains { $0.hasSuffix(".copy") } == false
                })

            // Outcomes: only with the token; one bad item refuses the request.
            let outcomes = (1...260).map { key in
                let converted =
                    (key % 3 == 0 || (experiment.arm(of: String(key)) == .realtime && key % 5 == 0)) ? 1 : 0
                return
                    "{\"experiment\":\"\(name)\",\"key\":\"\(key)\",\"metric\":\"converted\",\"value\":\(converted)},"
                    + "{\"experiment\":\"\(name)\",\"key\":\"\(key)\",\"metric\":\"revenue\",\"value\":\(Double(key % 17) * 1.5)},"
                    + "{\"experiment\":\"\(name)\",\"key\":\"\(key)\",\"metric\":\"pre_revenue\",\"value\":\(Double(key % 13)),\"at\":\"2020-01-01T00:00:00Z\"}"
            }
            let body = "[" + outcomes.joined(separator: ",") + "]"
            #expect(serve.post("/v1/outcomes", body)?.status == 401)
            #expect(
                serve.post("/v1/outcomes", body, headers: ["Authorization": "Bearer wrong"])?.status == 401)
            let auth = ["Authorization": "Bearer \(Self.token)"]
            let bad = serve.post(
                "/v1/outcomes",
                "[{\"experiment\":\"\(name)\",\"key\":\"1\",\"metric\":\"Bad Name\",\"value\":1}]",
                headers: auth)
            #expect(bad?.status == 400 && bad?.body.contains("item 0") == true, "\(bad?.body ?? "")")
            let unknown = serve.post(
                "/v1/outcomes", "[{\"experiment\":\"nope\",\"key\":\"1\",\"metric\":\"m\",\"value\":1}]",
                headers: auth)
            #expect(unknown?.status == 400)
            let boolean = serve.post(
                "/v1/outcomes",
                "[{\"experiment\":\"\(name)\",\"key\":\"1\",\"metric\":\"m\",\"value\":true}]",
                headers: auth)
            #expect(boolean?.status == 400)
            let accepted = serve.post("/v1/outcomes", body, headers: auth)
            #expect(accepted?.status == 200, "\(accepted?.body ?? "")")
            #expect(ServeProcess.object(accepted)["accepted"] as? Int == 780)

            // The report: served and printed alike, and equal to the offline report on the same units.
            let served = serve.get("/v1/experiments/\(name)/lift?metric=converted&metric=revenue")
            #expect(served?.status == 200, "\(served?.body ?? "")")
            let report = ServeProcess.object(served)
            let printed = try PrescoreProcess.run([
                "report", "lift", "--experiment", name, "--metric", "converted", "--metric", "revenue",
                "--format",
                "json", "--jobs-dir", fixture.folder.url.path, "--database-url", fixture.databaseURL,
            ])
            #expect(printed.status == 0, "\(printed.standardError)")
            let cli = try #require(
                try JSONSerialization.jsonObject(with: Data(printed.standardOutput.utf8)) as? [String: Any])
            let servedMetrics = try #require(report["metrics"] as? [[String: Any]])
            let printedMetrics = try #require(cli["metrics"] as? [[String: Any]])
            #expect(servedMetrics.map { $0["metric"] as? String } == ["converted", "revenue"])
            // Alike to 1e-12, not bit for bit: PostgreSQL sums the units' values in the order its
            // hash aggregate yields them, which moves when rows are added between the two reports
            // (the exposure recorder flushes in the background), and a float sum in another order
            // may differ in its last bits (seen once: the 12th digit of a p-value).
            for (a, b) in zip(servedMetrics, printedMetrics) {
                for figure in ["abs_lift", "p_value"] {
                    let (x, y) = (a[figure] as? Double ?? .nan, b[figure] as? Double ?? .nan)
                    #expect(abs(x - y) <= 1e-12 * max(1, abs(x)), "\(figure): \(x) vs \(y)")
                }
            }
            try Self.expectSameAsOffline(servedMetrics, experiment: experiment, fixture: fixture)
            let arms = try #require(report["arms"] as? [[String: Any]])
            #expect(arms.map { $0["units"] as? Int }.compactMap { $0 }.reduce(0, +) == 310)
            let serving = try #require(report["serving"] as? [[String: Any]])
            #expect(serving.count == 2)
            let economics = try #require(report["economics"] as? [String: Any])
            #expect((economics["realtime_cpu_seconds_per_1000"] as? Double ?? 0) > 0)
            #expect((economics["batch_cpu_seconds_per_1000"] as? Double ?? 0) > 0)
            #expect(serve.get("/v1/experiments/\(name)/lift?format=html")?.body.contains("<svg") == true)
            #expect(serve.get("/v1/experiments/nope/lift")?.status == 404)
            #expect(serve.get("/v1/experiments/\(name)/lift?since=yesterday")?.status == 400)
            #expect(serve.stop() == 0)
        }
    }

    /// The unit-level figures of the SQL report equal the offline report's on the same units:
    /// the per-unit sums built here from what the test sent.
    static func expectSameAsOffline(
        _ served: [[String: Any]], experiment: Experiment, fixture: BatchRunFixture
    ) throws {
        let rows = try fixture.database.execute(
            """
            SELECT e.key, min(e.arm),
                   coalesce((SELECT sum(value) FROM prescore.outcomes o WHERE o.key = e.key AND metric = 'converted'), 0),
                   coalesce((SELECT sum(value) FROM prescore.outcomes o WHERE o.key = e.key AND metric = 'revenue'), 0),
                   coalesce((SELECT sum(value) FROM prescore.outcomes o WHERE o.key = e.key AND metric = 'pre_revenue'), 0)
            FROM prescore.exposures e GROUP BY e.key
            """
        ).rows
        let units = rows.map { row in
            LiftReport.Unit(
                arm: row[1]!,
                values: [
                    "converted": Double(row[2]!)!, "revenue": Double(row[3]!)!,
                    "pre_revenue": Double(row[4]!)!,
                ])
        }
        let offline = try LiftReport(
            units: units, metrics: ["converted", "revenue"], split: experiment.split)
        for (metric, figures) in zip(offline.metrics, served) {
            #expect(abs(metric.comparison.absLift - (figures["abs_lift"] as? Double ?? .nan)) < 1e-9)
            #expect(abs(metric.comparison.pValue - (figures["p_value"] as? Double ?? .nan)) < 1e-9)
            #expect(metric.comparison.kind.rawValue == figures["kind"] as? String)
            let cuped = figures["cuped"] as? [String: Any]
            #expect((metric.cuped == nil) == (cuped == nil), "\(metric.name)")
            if let mine = metric.cuped, let cuped {
                #expect(abs(mine.theta - (cuped["theta"] as? Double ?? .nan)) < 1e-9)
                #expect(abs(mine.pValue - (cuped["p_value"] as? Double ?? .nan)) < 1e-9)
            }
        }
    }

    /// PostgreSQL away with a 1 MB spool: what fits is kept and written when PostgreSQL returns,
    /// what does not is dropped, counted and logged; nothing else goes missing.
    @Test func aFullSpoolDropsCountsAndLogs() throws {
        let name = TestServers.uniqueName("e")
        try BatchRunFixture.with(extra: Self.experimentBlock(name, batch: 100, realtime: 0)) { fixture in
            #expect(try fixture.run().status == 0)
            let (proxy, proxied) = try fixture.databaseProxy()
            defer { proxy.stop() }
            let serve = try ServeProcess(
                fixture, databaseURL: proxied, more: ["--exposure-spool-mb", "1"])
            defer { _ = serve.stop() }
            #expect(serve.waitReady(), "\(serve.output)")
            proxy.cut()
            let keys = (1...1_000).map { "\"\($0)\"" }.joined(separator: ",")
            for _ in 0..<20 {
                #expect(serve.post("/v1/scores/\(fixture.job)/batch", "{\"keys\": [\(keys)]}")?.status == 200)
                usleep(100_000)
            }
            func counter(_ metric: String) -> Int { Self.counter(metric, of: serve) }
            #expect(
                poll(seconds: 10) {
                    counter("prescore_exposures_spooled_total") + counter("prescore_exposures_dropped_total")
                        == 20_000
                })
            let dropped = counter("prescore_exposures_dropped_total")
            #expect(dropped > 0)
            #expect(serve.output.contains("exposures dropped"))
            proxy.resume()
            #expect(
                poll(seconds: 20) { (try? Self.exposures(fixture)) == 20_000 - dropped }, "\(serve.output)")
            #expect(serve.stop() == 0)
        }
    }

    /// A rollup rebuild (what any DELETE, UPDATE or TRUNCATE of the experiment tables starts) holds
    /// their writers off: the recorder's COPY gives up at its 10 s deadline, the batch is spooled,
    /// and written, rollups included, once the lock is gone.
    @Test func exposuresWaitingOnARollupRebuildAreSpooledNotLost() throws {
        let name = TestServers.uniqueName("e")
        try BatchRunFixture.with(extra: Self.experimentBlock(name, batch: 100, realtime: 0)) { fixture in
            #expect(try fixture.run().status == 0)
            let serve = try ServeProcess(fixture)
            defer { _ = serve.stop() }
            #expect(serve.waitReady(), "\(serve.output)")
            let holder = try PostgresConnection(url: fixture.databaseURL)
            try holder.execute(
                "BEGIN; LOCK TABLE prescore.exposures, prescore.outcomes IN SHARE ROW EXCLUSIVE MODE")
            for key in 1...50 { #expect(serve.get("/v1/scores/\(fixture.job)/\(key)")?.status == 200) }
            #expect(
                poll(seconds: 30) { Self.counter("prescore_exposures_spooled_total", of: serve) == 50 },
                "\(serve.output)")
            #expect(try Self.exposures(fixture) == 0)
            try holder.execute("COMMIT")
            #expect(poll(seconds: 30) { (try? Self.exposures(fixture)) == 50 }, "\(serve.output)")
            let rolledUp = try fixture.database.execute(
                "SELECT sum(exposures) FROM prescore.experiment_units")
            #expect(rolledUp.scalar == "50")
            #expect(serve.stop() == 0)
        }
    }

    /// SIGTERM while PostgreSQL is away: the last exposures go to the spool and the process exits 0;
    /// a second serve on the same spool (not while the first holds it) writes them once PostgreSQL
    /// is back. Nothing is lost across the restart.
    @Test func theSpoolOutlivesARestart() throws {
        let name = TestServers.uniqueName("e")
        try BatchRunFixture.with(extra: Self.experimentBlock(name, batch: 100, realtime: 0)) { fixture in
            #expect(try fixture.run().status == 0)
            let (proxy, proxied) = try fixture.databaseProxy()
            defer { proxy.stop() }
            let spool = fixture.folder.url.appendingPathComponent("shared-spool")
            let first = try ServeProcess(fixture, databaseURL: proxied, spool: spool)
            #expect(first.waitReady(), "\(first.output)")
            for key in 1...40 { #expect(first.get("/v1/scores/\(fixture.job)/\(key)")?.status == 200) }
            #expect(poll(seconds: 10) { (try? Self.exposures(fixture)) == 40 }, "\(first.output)")
            proxy.cut()
            for key in 41...100 { #expect(first.get("/v1/scores/\(fixture.job)/\(key)")?.status == 200) }
            let second = try ServeProcess(fixture, databaseURL: proxied, spool: spool)
            #expect(second.process.waitUntilExitOrTimeout(seconds: 20) == 1, "one spool, one process")
            #expect(second.output.contains("in use by another prescore serve"), "\(second.output)")
            #expect(first.stop() == 0, "\(first.output)")
            #expect(
                (try? FileManager.default.contentsOfDirectory(atPath: spool.path))?.contains {
                    $0.hasSuffix(".copy")
                }
                    == true)
            #expect(try Self.exposures(fixture) == 40)
            proxy.resume()
            let third = try ServeProcess(fixture, databaseURL: proxied, spool: spool)
            defer { _ = third.stop() }
            #expect(third.waitReady(), "\(third.output)")
            #expect(poll(seconds: 20) { (try? Self.exposures(fixture)) == 100 }, "\(third.output)")
            let keys = try fixture.database.execute("SELECT count(DISTINCT key) FROM prescore.exposures")
                .scalar
            #expect(keys == "100")
        }
    }
}

extension Process {
    /// The exit status once the process ended, or nil after `seconds`.
    func waitUntilExitOrTimeout(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while isRunning && Date() < deadline { usleep(50_000) }
        if isRunning { return nil }
        waitUntilExit()
        return terminationStatus
    }
}

extension BatchRunFixture {
    /// A proxy in front of the fixture's PostgreSQL, and the database URL through it.
    func databaseProxy() throws -> (PausableTCPProxy, String) {
        var target = try #require(URLComponents(string: databaseURL))
        let proxy = PausableTCPProxy(targetPort: try #require(target.port))
        target.port = proxy.port
        return (proxy, try #require(target.string))
    }
}
