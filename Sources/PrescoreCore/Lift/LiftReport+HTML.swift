import Foundation

/// The report as one self-contained HTML page: tables, and charts drawn as inline SVG (no script,
/// no network), so it can be mailed, archived or opened offline.
extension LiftReport {
    public func html(title: String) -> String {
        var body = "<h1>\(Self.escape(title))</h1>\n"
        body += "<p>Control <b>\(Self.control)</b>, treatment <b>\(Self.treatment)</b>. "
        body += "Units: " + arms.map { "\($0.arm) \($0.units)" }.joined(separator: ", ")
        if excludedUnits > 0 { body += " (\(excludedUnits) units seen in both arms left out)" }
        body +=
            ". Sample ratio: χ² \(Self.number(sampleRatio.chi2)), p \(Self.number(sampleRatio.pValue)).</p>\n"
        if sampleRatio.flagged {
            body += "<p class=\"warn\">Sample-ratio mismatch: the arms do not follow the split; "
            body += "the lift below is not trustworthy until the cause is found.</p>\n"
        }
        for (metric, needed) in underpowered {
            body += "<p class=\"warn\">\(Self.escape(metric)): about \(needed) units an arm are needed "
            body += "to detect a 5% relative lift at 80% power.</p>\n"
        }
        body += metricsTable() + "\n<h2>Relative lift, 95% interval</h2>\n" + liftChart()
        body += "\n<h2>Units per arm against the split</h2>\n" + armsChart()
        if !serving.isEmpty { body += "\n<h2>Serving</h2>\n" + servingTable() }
        if let economics { body += "\n<h2>Cost and ROI</h2>\n" + Self.economicsTable(economics) }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(Self.escape(title))</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2em;color:#222}
            table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
            th{background:#f3f3f3}td:first-child{text-align:left}.warn{color:#a40000;font-weight:bold}
            .sig{background:#e8f5e9}
            </style></head><body>
            \(body)
            </body></html>

            """
    }

    private func metricsTable() -> String {
        let header = [
            "metric", "kind", Self.control, Self.treatment, "abs lift", "95% CI", "rel lift", "95% CI", "p",
            "p (Holm)",
            "CUPED abs lift", "CUPED 95% CI", "CUPED p",
        ]
        let rows = metrics.map { metric -> (String, [String]) in
            let c = metric.comparison
            let cuped = metric.cuped.map {
                [Self.number($0.absLift), Self.interval($0.absCI), Self.number($0.pValue)]
            }
            return (
                metric.pValueHolm < 0.05 ? " class=\"sig\"" : "",
                [
                    metric.name, c.kind.rawValue, Self.number(c.controlMean), Self.number(c.treatmentMean),
                    Self.number(c.absLift), Self.interval(c.absCI), Self.number(c.relLift),
                    Self.interval(c.relCI),
                    Self.number(c.pValue), Self.number(metric.pValueHolm),
                ] + (cuped ?? ["", "", ""])
            )
        }
        return Self.table(header: header, rows: rows)
            + "<p>Highlighted: significant at 5% after Holm's adjustment over the metrics.</p>"
    }

    /// A forest plot: each metric's relative lift as a point with its interval, 0 marked.
    private func liftChart() -> String {
        let width = 640.0
        let row = 28.0
        let left = 160.0
        let values = metrics.flatMap { $0.comparison.relCI + [$0.comparison.relLift] }.filter(\.isFinite)
        let span = max(values.map(abs).max() ?? 0.1, 0.01) * 1.1
        let x = { (value: Double) in left + (value + span) / (2 * span) * (width - left - 20) }
        let height = Double(metrics.count) * row + 30
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
        svg += "role=\"img\" aria-label=\"relative lift per metric\">\n"
        svg +=
            "<line x1=\"\(x(0))\" y1=\"0\" x2=\"\(x(0))\" y2=\"\(height - 20)\" stroke=\"#888\" stroke-dasharray=\"4\"/>\n"
        svg += "<text x=\"\(x(-span))\" y=\"\(height - 5)\" font-size=\"11\">\(Self.percent(-span))</text>\n"
        svg += "<text x=\"\(x(0) - 4)\" y=\"\(height - 5)\" font-size=\"11\">0</text>\n"
        svg +=
            "<text x=\"\(x(span) - 40)\" y=\"\(height - 5)\" font-size=\"11\">\(Self.percent(span))</text>\n"
        for (index, metric) in metrics.enumerated() {
            let c = metric.comparison
            let y = Double(index) * row + 18
            let color = metric.pValueHolm < 0.05 ? "#1b5e20" : "#455a64"
            svg += "<text x=\"4\" y=\"\(y + 4)\" font-size=\"13\">\(Self.escape(metric.name))</text>\n"
            if c.relCI.allSatisfy(\.isFinite) {
                svg += "<line x1=\"\(x(c.relCI[0]))\" y1=\"\(y)\" x2=\"\(x(c.relCI[1]))\" y2=\"\(y)\" "
                svg += "stroke=\"\(color)\" stroke-width=\"3\"/>\n"
            }
            if c.relLift.isFinite {
                svg += "<circle cx=\"\(x(c.relLift))\" cy=\"\(y)\" r=\"5\" fill=\"\(color)\"/>\n"
            }
        }
        return svg + "</svg>"
    }

    /// Each arm's share of units as a bar, the configured share as a black tick.
    private func armsChart() -> String {
        let total = Double(max(1, arms.reduce(0) { $0 + $1.units }))
        let width = 480.0
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" height=\"\(arms.count * 28 + 10)\" "
        svg += "role=\"img\" aria-label=\"units per arm against the split\">\n"
        for (index, arm) in arms.enumerated() {
            let y = Double(index * 28 + 4)
            let share = Double(arm.units) / total
            let expected = expectedShares[index]
            svg += "<text x=\"4\" y=\"\(y + 15)\" font-size=\"13\">\(Self.escape(arm.arm))</text>\n"
            svg += "<rect x=\"100\" y=\"\(y)\" width=\"\(share * width)\" height=\"20\" fill=\"#90a4ae\"/>\n"
            svg += "<line x1=\"\(100 + expected * width)\" y1=\"\(y - 2)\" x2=\"\(100 + expected * width)\" "
            svg += "y2=\"\(y + 22)\" stroke=\"#000\" stroke-width=\"2\"/>\n"
            svg += "<text x=\"\(110 + width)\" y=\"\(y + 15)\" font-size=\"12\">\(Self.percent(share)) "
            svg += "(split \(Self.percent(expected)))</text>\n"
        }
        return svg + "</svg>"
    }

    private func servingTable() -> String {
        let sources = serving.first?.sourceShares.map(\.source) ?? []
        let header =
            ["arm", "exposures", "p50 ms", "p95 ms", "p99 ms"] + sources.map { "share \($0)" } + [
                "mean score age s"
            ]
        let rows = serving.map { arm -> (String, [String]) in
            (
                "",
                [arm.arm, "\(arm.exposures)"]
                    + [arm.latencyMs.p50, arm.latencyMs.p95, arm.latencyMs.p99].map(Self.number)
                    + arm.sourceShares.map { Self.percent($0.share) } + [Self.number(arm.meanScoreAgeSeconds)]
            )
        }
        return Self.table(header: header, rows: rows)
    }

    private static func economicsTable(_ e: Economics) -> String {
        let rows: [(String, String)] = [
            ("metric valued", e.metric), ("value per unit (USD)", number(e.valuePerUnit)),
            ("CPU hour (USD)", number(e.cpuHourUSD)),
            ("batch CPU s / 1,000 predictions", e.batchCPUSecondsPer1000.map(number) ?? "no run recorded"),
            ("realtime CPU s / 1,000 predictions", number(e.realtimeCPUSecondsPer1000)),
            ("realtime predictions (treatment)", "\(e.realtimePredictions)"),
            ("treated units", "\(e.treatedUnits)"),
            ("incremental cost (USD)", number(e.incrementalCostUSD)),
            ("incremental value (USD)", number(e.incrementalValueUSD)),
            ("ROI", number(e.roi) + " " + interval(e.roiCI)),
        ]
        return table(header: ["", ""], rows: rows.map { ("", [$0.0, $0.1]) })
    }

    private static func table(header: [String], rows: [(attributes: String, cells: [String])]) -> String {
        var html = "<table><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
        for row in rows {
            html += "<tr\(row.attributes)>" + row.cells.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n"
        }
        return html + "</table>"
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Six significant digits, as the table and CSV print.
    public static func number(_ value: Double) -> String { String(format: "%.6g", value) }

    public static func interval(_ values: [Double]) -> String {
        "[\(number(values[0])), \(number(values[1]))]"
    }

    static func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
}
