import ArgumentParser

struct JobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "Validate and list job definitions (jobs/*.yaml).",
        subcommands: [JobsValidateCommand.self, JobsListCommand.self])
}
