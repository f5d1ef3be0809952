import ArgumentParser
import Foundation
import PrescoreCore

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Reports for analysts.", subcommands: [LiftCommand.self])
}

struct LiftCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lift",
        abstract: "A/B lift of realtime scoring (treatment) over batch scores (control).",
        discussion: """
            Offline: --units FILE.csv --split batch=90,realtime=10 runs the report on an exported \
            per-unit CSV (columns unit,arm, then metrics; pre_<metric> is the CUPED covariate of \
            <metric>). Per unit, not per exposure; a unit in both arms is left out and counted. \
            The statistics are those of README "For analysts". --experiment (the report over \
            serve's exposures and recorded outcomes) needs experiments in serve, not built yet.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, csv }

    @Option(help: "Per-unit CSV: unit,arm,<metric>…[,pre_<metric>…].") var units: String?
    @Option(help: "The configured split, e.g. batch=90,realtime=10.") var split: String?
    @Option(help: "The experiment's name (served experiments: not built yet).") var experiment: String?
    @Option(name: .customLong("metric"), help: "Only these metrics (repeatable).") var metrics: [String] = []
    @Option(help: "table, json or csv.") var format: Format = .table
    @Option(help: "Write the report to this file instead of standard output.") var output: String?

    func validate() throws {
        if experiment != nil {
            throw ValidationError(
                "--experiment needs experiments in prescore serve, which are not built yet; use --units")
        }
        guard units != nil, split != nil else { throw ValidationError("--units and --split are required") }
    }

    func run() throws {
        let file = try UnitsFile(path: units!)
        let chosen = metrics.isEmpty ? file.metrics : metrics
        for metric in chosen where !file.metrics.contains(metric) {
            throw CLIError(.invalidInput, "\(units!) has no metric column \(metric)")
        }
        let report: LiftReport
        do {
            report = try LiftReport(units: file.units, metrics: chosen, split: try Self.parseSplit(split!))
        } catch {
            throw CLIError(.invalidInput, "\(error)")
        }
        var text: String
        switch format {
        case .json: text = report.json + "\n"
        case .csv: text = Self.csv(report)
        case .table: text = Self.table(report, excluded: file.excluded)
        }
        if let output {
            try StagedOutputFile.write(text, to: output)
        } else {
            print(text, terminator: "")
        }
    }

    static func parseSplit(_ text: String) throws -> [(arm: String, share: Double)] {
        try text.split(separator: ",").map { part in
            let pieces = part.split(separator: "=")
            guard pieces.count == 2, let share = Double(pieces[1]), share > 0, share.isFinite else {
                throw ValidationError("--split: '\(part)' is not ARM=SHARE (e.g. batch=90,realtime=10)")
            }
            return (String(pieces[0]), share)
        }
    }

    static func number(_ value: Double) -> String { String(format: "%.6g", value) }
    static func interval(_ values: [Double]) -> String { "[\(number(values[0])), \(number(values[1]))]" }

    static func table(_ report: LiftReport, excluded: Int) -> String {
        var lines = [
            "arms: " + report.arms.map { "\($0.arm) \($0.units) units" }.joined(separator: ", ")
                + (excluded > 0 ? " (\(excluded) units in both arms left out)" : ""),
            "sample ratio: chi2 \(number(report.sampleRatio.chi2)), p \(number(report.sampleRatio.pValue))"
                + (report.sampleRatio.flagged ? "  MISMATCH: the arms do not follow the split" : ""),
            "",
        ]
        let rows = report.metrics.map { metric -> [String] in
            let c = metric.comparison
            return [
                metric.name, c.kind.rawValue, number(c.controlMean), number(c.treatmentMean),
                number(c.absLift),
                interval(c.absCI), number(c.relLift), interval(c.relCI), number(c.pValue),
                number(metric.pValueHolm) + (metric.pValueHolm < 0.05 ? " *" : ""),
                metric.cuped.map { "\(number($0.absLift)) \(interval($0.absCI)) p \(number($0.pValue))" }
                    ?? "",
            ]
        }
        lines.append(
            TextTable.render(
                header: [
                    "metric", "kind", "batch", "realtime", "abs lift", "95% CI", "rel lift", "95% CI", "p",
                    "p (Holm)", "CUPED abs lift",
                ], rows: rows))
        for (metric, needed) in report.underpowered {
            lines.append(
                "warning: \(metric): about \(needed) units an arm are needed to detect a 5% relative lift at 80% power"
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func csv(_ report: LiftReport) -> String {
        let header =
            "metric,kind,control_mean,treatment_mean,abs_lift,abs_ci_low,abs_ci_high,rel_lift,rel_ci_low,rel_ci_high,p_value,p_value_holm"
        let rows = report.metrics.map { metric -> String in
            let c = metric.comparison
            return
                ([metric.name, c.kind.rawValue]
                + [
                    c.controlMean, c.treatmentMean, c.absLift, c.absCI[0], c.absCI[1], c.relLift, c.relCI[0],
                    c.relCI[1],
                    c.pValue, metric.pValueHolm,
                ].map { "\($0)" }).joined(separator: ",")
        }
        return ([header] + rows).joined(separator: "\n") + "\n"
    }
}
