import ArgumentParser

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Demo data for trying Prescore out.",
        subcommands: [DemoSeedCommand.self, DemoExperimentCommand.self])
}
