import ArgumentParser
import PrescoreCore

struct JobsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the jobs: name, schedule, time zone and model.",
        discussion:
            "Files with problems are skipped with a warning; run `prescore jobs validate` for details.")

    @OptionGroup var jobsDirectory: JobsDirectoryOption

    func run() throws {
        let catalog = try JobCatalog.load(directory: jobsDirectory.jobsDirectory)
        let rows = catalog.jobs.map { job in
            let definition = job.definition
            return [
                definition.name, definition.schedule.text, definition.timezone,
                "\(definition.model.kind) \(definition.model.version)", definition.file,
            ]
        }
        print(TextTable.render(header: ["JOB", "SCHEDULE", "TIMEZONE", "MODEL", "FILE"], rows: rows))
        let badFiles = Set(catalog.problems.compactMap { $0.location?.file })
        for file in badFiles.sorted() {
            printError("warning: \(file) has problems and is not listed; run prescore jobs validate")
        }
    }
}
