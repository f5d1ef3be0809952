import Foundation
import Testing

/// `prescore report lift --units` as a process, on the SciPy-checked data of the Core tests.
@Suite struct ReportLiftTests {
    struct Case: Decodable {
        var name: String
        var control: [Double]
        var treatment: [Double]
        var covariate_control: [Double]?
        var covariate_treatment: [Double]?
    }

    struct Reference: Decodable { var cases: [Case] }

    func write(_ folder: TemporaryFolder, _ extra: [String] = []) throws -> String {
        let url = PrescoreProcess.repositoryRoot.appendingPathComponent(
            "Tests/PrescoreCoreTests/Fixtures/lift/lift_reference.json")
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        let item = try #require(reference.cases.first { $0.name == "cuped" })
        var lines = ["unit,arm,revenue,pre_revenue"]
        for (index, (value, pre)) in zip(item.control, item.covariate_control!).enumerated() {
            lines.append("c\(index),batch,\(value),\(pre)")
        }
        for (index, (value, pre)) in zip(item.treatment, item.covariate_treatment!).enumerated() {
            lines.append("t\(index),realtime,\(value),\(pre)")
        }
        try folder.write("units.csv", (lines + extra).joined(separator: "\n") + "\n")
        return folder.url.appendingPathComponent("units.csv").path
    }

    @Test func printsTheContractJSONWithCupedAndLeavesOutUnitsInBothArms() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = try write(folder, ["c0,realtime,1,1"])  // c0 in both arms: left out
        let result = try PrescoreProcess.run([
            "report", "lift", "--units", file, "--split", "batch=50,realtime=50", "--format", "json",
        ])
        #expect(result.status == 0, "\(result.standardError)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect(object["control"] as? String == "batch")
        let arms = try #require(object["arms"] as? [[String: Any]])
        #expect(arms.map { $0["units"] as? Int } == [299, 300])
        let metric = try #require((object["metrics"] as? [[String: Any]])?.first)
        #expect(metric["metric"] as? String == "revenue")
        #expect(metric["kind"] as? String == "continuous")
        #expect((metric["cuped"] as? [String: Any])?["theta"] != nil)
        #expect(metric["p_value_holm"] as? Double == metric["p_value"] as? Double)
    }

    @Test func flagsASampleRatioMismatchAndRefusesBadCells() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = try write(folder)
        let table = try PrescoreProcess.run([
            "report", "lift", "--units", file, "--split", "batch=90,realtime=10",
        ])
        #expect(table.status == 0)
        #expect(table.standardOutput.contains("MISMATCH"))
        try folder.write("bad.csv", "unit,arm,revenue\nu1,batch,1\nu2,realtime,0x10\n")
        let bad = try PrescoreProcess.run([
            "report", "lift", "--units", folder.url.appendingPathComponent("bad.csv").path, "--split",
            "batch=50,realtime=50",
        ])
        #expect(bad.status == 1)
        #expect(bad.standardError.contains("bad.csv:3: column revenue is not a decimal number"))
        #expect(!bad.standardError.contains("0x10"))
    }
}

extension ReportLiftTests {
    /// The HTML report is one self-contained page (nothing fetched), rendered by headless Chromium
    /// (Debian's `chromium`, installed by `make test`) to a PNG of the whole page.
    @Test func theHTMLReportRendersInHeadlessChromium() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = try write(folder)
        let page = folder.url.appendingPathComponent("lift.html")
        let result = try PrescoreProcess.run([
            "report", "lift", "--units", file, "--split", "batch=50,realtime=50", "--format", "html",
            "--output",
            page.path,
        ])
        #expect(result.status == 0, "\(result.standardError)")
        let html = try String(contentsOf: page, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("<svg") && html.contains("revenue"))
        for reference in ["src=", "href=", "<script", "@import", "url("] {
            #expect(!html.contains(reference), "the page must not fetch anything: \(reference)")
        }
        let chromium = try #require(
            ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
                FileManager.default.isExecutableFile(atPath: $0)
            },
            "headless Chromium is needed (apt-get install chromium; make test installs it)")
        let png = folder.url.appendingPathComponent("lift.png")
        let render = Process()
        render.executableURL = URL(fileURLWithPath: chromium)
        render.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
            "--user-data-dir=\(folder.url.appendingPathComponent("chromium").path)", "--window-size=1200,900",
            "--screenshot=\(png.path)", page.absoluteString,
        ]
        render.standardOutput = FileHandle.nullDevice
        render.standardError = FileHandle.nullDevice
        try render.run()
        let deadline = Date().addingTimeInterval(60)
        while render.isRunning && Date() < deadline { usleep(100_000) }
        if render.isRunning { render.terminate() }
        render.waitUntilExit()
        #expect(render.terminationStatus == 0)
        let bytes = try [UInt8](Data(contentsOf: png))
        #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG")
        #expect(bytes.count > 10_000, "a page with tables and a chart, not a blank one: \(bytes.count) bytes")
    }
}
