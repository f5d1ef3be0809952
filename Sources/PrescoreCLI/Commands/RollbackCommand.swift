import ArgumentParser
import PrescoreCore
import PrescoreRedis

struct RollbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Point a job back at an earlier kept run.",
        discussion: """
            Without --to, the newest kept run older than the published one. Runs stay kept as \
            output.keep_runs says. The switch is atomic, like a publish; a run still in progress that \
            is older than the newest run ever published can still never publish.
            """)

    @Argument(help: "The job's name.")
    var job: String

    @Option(name: .customLong("to"), help: ArgumentHelp("The run to serve again.", valueName: "run"))
    var target: Int64?

    @OptionGroup var jobsDirectory: JobsDirectoryOption
    @OptionGroup var redis: RedisOptions

    func run() throws {
        let store = try redis.scoreStore(job: job, jobsDirectory: jobsDirectory.jobsDirectory)
        let previous = try store.published()?.runID
        let now = try store.rollback(to: target)
        print(
            "\(job): now serving run \(now.runID) (model \(now.modelVersion), \(now.rows) scores, computed "
                + "\(GetCommand.rfc3339(now.computedAt)))"
                + (previous.map { $0 == now.runID ? "" : "; run \($0) stays kept" } ?? ""))
    }
}
