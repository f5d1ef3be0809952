import Foundation
import PrescoreHTTPClient
import PrescoreTestSupport
import Testing

/// `dashboards/prescore-serving.json` parses, and every metric its panels query is one that a
/// running `prescore serve` or `prescore scheduler` exports.
@Suite struct DashboardTests {
    @Test func everyPanelQueriesAMetricTheDaemonsExport() throws {
        let file = PrescoreProcess.repositoryRoot.appendingPathComponent("dashboards/prescore-serving.json")
        let dashboard = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        let expressions = panels.flatMap {
            ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String }
        }
        #expect(expressions.count >= 10)
        let names = Set(
            expressions.flatMap { expression in
                expression.matches(of: /prescore_[a-z0-9_]+/).map { String($0.output) }
            })

        try BatchRunFixture.with(schedule: "@every 1s", extra: BatchRunFixture.realtime()) { fixture in
            let httpPort = TestServers.closedPort()
            let scheduler = try SchedulerProcessTests.Daemon(
                fixture, instance: "dash",
                more: ["--http-port", String(httpPort), "--http-host", "127.0.0.1"])
            defer { _ = scheduler.stop(SIGTERM) }
            let serve = try ServeProcess(fixture)
            defer { _ = serve.stop() }
            #expect(serve.waitReady(), "\(serve.output)")
            func schedulerMetrics() -> String {
                RawHTTP.send(port: httpPort, path: "/metrics")?.body ?? ""
            }
            let deadline = Date().addingTimeInterval(30)
            while !schedulerMetrics().contains("prescore_run_duration_seconds_count"), Date() < deadline {
                usleep(200_000)
            }
            _ = serve.get("/v1/scores/\(fixture.job)/5")
            _ = serve.get("/v1/scores/\(fixture.job)/999999")
            let exported = schedulerMetrics() + (serve.get("/metrics")?.body ?? "")
            for name in names.sorted() {
                #expect(
                    exported.contains(name + "{") || exported.contains(name + " "), "\(name) is not exported")
            }
        }
    }
}

extension DashboardTests {
    /// `dashboards/prescore-lift.json`: every panel's SQL (and the experiment variable's) runs, with
    /// Grafana's macros expanded as its PostgreSQL data source does, on the data of a simulated
    /// experiment (`prescore demo experiment` through a real `serve`), and returns rows.
    @Test func everyLiftPanelQueryRunsOnADemoExperiment() throws {
        let file = PrescoreProcess.repositoryRoot.appendingPathComponent("dashboards/prescore-lift.json")
        let dashboard = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        let variables = (dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        let queries =
            panels.flatMap {
                ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["rawSql"] as? String }
            }
            + variables.compactMap { $0["type"] as? String == "query" ? $0["query"] as? String : nil }
        #expect(queries.count >= 7)

        let name = TestServers.uniqueName("e")
        let extra =
            BatchRunFixture.realtime(timeout: "2s", more: "max_in_flight: 64\nmax_queued: 512") + "\n"
            + ExperimentProcessTests.experimentBlock(name)
        try BatchRunFixture.with(extra: extra) { fixture in
            #expect(try fixture.run().status == 0)
            let serve = try ServeProcess(fixture, environment: ["PRESCORE_API_TOKEN": "t0k"])
            #expect(serve.waitReady(), "\(serve.output)")
            let demo = try PrescoreProcess.run(
                [
                    "demo", "experiment", "--serve-url", "http://127.0.0.1:\(serve.port)", "--experiment",
                    name,
                    "--entities", "600", "--population", "1000", "--jobs-dir", fixture.folder.url.path,
                ], environment: ["PRESCORE_API_TOKEN": "t0k"])
            #expect(demo.status == 0, "\(demo.standardError)")
            #expect(demo.standardOutput.contains("600 users answered"), "\(demo.standardOutput)")
            #expect(serve.stop() == 0)
            for query in queries {
                let sql = query.replacing(/\$__timeGroupAlias\(([a-z.]+), \$__interval\)/) {
                    "floor(extract(epoch from \($0.output.1))/60)*60 AS \"time\""
                }
                .replacing(/\$__timeFilter\(([a-z.]+)\)/) {
                    "\($0.output.1) BETWEEN '1970-01-01T00:00:00Z' AND '2100-01-01T00:00:00Z'"
                }
                .replacingOccurrences(of: "$experiment", with: name)
                let rows = try fixture.database.execute(sql).rows
                #expect(!rows.isEmpty, "no rows: \(query)")
            }
        }
    }
}
