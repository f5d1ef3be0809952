import ArgumentParser

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Work with models directly.",
        subcommands: [ModelPredictCommand.self])
}
