import ArgumentParser
import Glibc

/// Benchmarks that print their figures beside the limits they are measured against (`make bench`).
/// Speed goals live here, never as timed assertions in tests.
struct PrescoreBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prescore-bench",
        abstract: "Prescore's benchmarks.",
        subcommands: [
            ScoringBenchmark.self, CopyBenchmark.self, BatchBenchmark.self, SchedulerBenchmark.self,
            ServeBenchmark.self, LiftBenchmark.self, RemoteBenchmark.self,
        ])
}

// As in `prescore`: a lost connection is an error, never a silent death by SIGPIPE.
signal(SIGPIPE, SIG_IGN)
PrescoreBench.main()
