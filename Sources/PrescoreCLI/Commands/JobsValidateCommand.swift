import ArgumentParser
import PrescoreCore
import PrescoreJobs
import PrescorePostgres

struct JobsValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check every job file: keys, types, schedule, model, and the queries' columns.",
        discussion: """
            Connects to PostgreSQL to prepare each query (nothing is run) and checks that its columns \
            are a key and the model's features. Every problem is reported as file:line:column \
            (field): message. Exits 1 when any file has a problem.
            """)

    @OptionGroup var jobsDirectory: JobsDirectoryOption
    @OptionGroup var database: DatabaseOptions

    func run() throws {
        let catalog = try JobCatalog.load(directory: jobsDirectory.jobsDirectory)
        var problems = catalog.problems
        var notes: [String] = []
        if !catalog.jobs.isEmpty {
            let connection = try database.connect()
            for job in catalog.jobs {
                let report = JobQueryChecker.check(job, on: connection)
                problems += report.problems
                notes += report.notes
            }
        }
        for note in notes { print("note: \(note)") }
        let badFiles = Set(problems.compactMap { $0.location?.file })
        for job in catalog.jobs where !badFiles.contains(job.definition.file) {
            let features = job.scorer.featureNames == nil ? "by position" : "by name"
            print(
                "ok    \(job.definition.file): \(job.definition.name) (\(job.definition.model.kind) "
                    + "\(job.definition.model.version), \(job.scorer.featureCount) features \(features))")
        }
        for problem in problems { printError("error \(problem)") }
        if catalog.files.isEmpty { printError("no job files (*.yaml) in \(jobsDirectory.jobsDirectory)") }
        guard problems.isEmpty, !catalog.files.isEmpty else { throw ExitCode.failure }
        print("\(catalog.jobs.count) job(s) valid")
    }
}
