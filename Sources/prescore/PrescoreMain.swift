import ArgumentParser
import PrescoreCLI

/// The executable only parses and runs: `Prescore` and its subcommands live in PrescoreCLI.
@main
enum PrescoreMain {
    static func main() async {
        do {
            var command = try Prescore.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            Prescore.exit(withError: error)
        }
    }
}
