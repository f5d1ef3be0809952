import ArgumentParser
import Glibc
import PrescoreCLI

/// The executable only parses and runs: `Prescore` and its subcommands live in PrescoreCLI.
@main
enum PrescoreMain {
    static func main() async {
        // A write to a socket whose peer went away (Redis killed a client, PostgreSQL restarted)
        // must fail as EPIPE, handled as a lost connection, not kill the process silently.
        signal(SIGPIPE, SIG_IGN)
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
