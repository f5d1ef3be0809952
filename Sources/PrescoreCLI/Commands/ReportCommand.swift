import ArgumentParser
import Foundation
import PrescoreCore
import PrescoreJobs
import PrescorePostgres

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Reports for analysts.", subcommands: [LiftCommand.self])
}

struct LiftCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lift",
        abstract: "A/B lift of realtime scoring (treatment) over batch scores (control).",
        discussion: """
            --experiment NAME reports a served experiment from prescore.exposures and \
            prescore.outcomes (aggregated in PostgreSQL; the experiment's split, value and price \
            come from its job file in --jobs-dir). Offline, --units FILE.csv --split \
            batch=90,realtime=10 runs the same statistics on an exported per-unit CSV (columns \
            unit,arm, then metrics; pre_<metric> is the CUPED covariate of <metric>). Per unit, not \
            per exposure; a unit in both arms is left out and counted. The statistics are those of \
            README "For analysts".
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, csv, html }

    @Option(help: "The served experiment to report on.") var experiment: String?
    @Option(help: "Per-unit CSV: unit,arm,<metric>…[,pre_<metric>…].") var units: String?
    @Option(help: "With --units: the configured split, e.g. batch=90,realtime=10.") var split: String?
    @Option(
        name: .customLong("metric"), help: "Only these metrics (repeatable); the first is valued for ROI.")
    var metrics: [String] = []
    @Option(help: "With --experiment: exposures from this time (RFC 3339 or a date).") var since: String?
    @Option(help: "With --experiment: exposures and outcomes before this time (default: now).") var until:
        String?
    @Option(help: "table, json, csv or html.") var format: Format = .table
    @Option(help: "Write the report to this file instead of standard output.") var output: String?
    @OptionGroup var jobs: JobsDirectoryOption
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        switch (experiment, units) {
        case (.some, .some): throw ValidationError("give --experiment or --units, not both")
        case (nil, nil): throw ValidationError("give --experiment NAME, or --units FILE with --split")
        case (nil, .some):
            guard split != nil else {
                throw ValidationError("--units needs --split, e.g. batch=90,realtime=10")
            }
            if since != nil || until != nil {
                throw ValidationError("--since and --until go with --experiment")
            }
        case (.some, nil):
            if split != nil {
                throw ValidationError("--split goes with --units: an experiment's is in its job file")
            }
        }
        for metric in metrics where !Outcome.isValidMetric(metric) {
            throw ValidationError("--metric '\(metric)' is not a metric name (a-z, 0-9 and '_')")
        }
        for (name, value) in [("--since", since), ("--until", until)] {
            if let value, TimeText.parse(value) == nil {
                throw ValidationError(
                    "\(name) '\(value)' is not a time such as 2026-12-01T10:00:00Z or 2026-12-01")
            }
        }
    }

    func run() throws {
        let (report, title) = try experiment.map(served) ?? offline()
        let text: String
        switch format {
        case .json: text = report.json + "\n"
        case .csv: text = report.csv
        case .html: text = report.html(title: title)
        case .table: text = LiftTable.render(report)
        }
        if let output {
            try StagedOutputFile.write(text, to: output)
        } else {
            print(text, terminator: "")
        }
    }

    func served(_ name: String) throws -> (LiftReport, String) {
        let catalog = try JobCatalog.load(directory: jobs.jobsDirectory)
        let (job, experiment) = try catalog.experiment(named: name, directory: jobs.jobsDirectory)
        let connection = try database.connect()
        try Migrator().migrate(connection)
        let query = LiftQuery(
            experiment: experiment, job: job.name, metrics: metrics, since: since.flatMap(TimeText.parse),
            until: until.flatMap(TimeText.parse) ?? Date())
        do {
            return (try query.report(on: connection), "Lift of experiment \(name) (job \(job.name))")
        } catch let error as CoreError {
            throw CLIError(.invalidInput, "experiment \(name): \(error.message)")
        }
    }

    func offline() throws -> (LiftReport, String) {
        let file = try UnitsFile(path: units!)
        let chosen = metrics.isEmpty ? file.metrics : metrics
        for metric in chosen where !file.metrics.contains(metric) {
            throw CLIError(.invalidInput, "\(units!) has no metric column \(metric)")
        }
        do {
            let report = try LiftReport(
                units: file.units, metrics: chosen, split: try Self.parseSplit(split!),
                excludedUnits: file.excluded)
            return (report, "Lift of \((units! as NSString).lastPathComponent)")
        } catch let error as CoreError {
            throw CLIError(.invalidInput, "\(error.message)")
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
}
