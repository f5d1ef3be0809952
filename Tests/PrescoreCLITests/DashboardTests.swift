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
