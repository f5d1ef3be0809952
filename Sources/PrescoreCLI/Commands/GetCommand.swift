import ArgumentParser
import Foundation
import PrescoreCore
import PrescoreRedis

struct GetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print the published score of one key, as JSON.",
        discussion: """
            Reads Redis only, by the layout of docs/storage.md. Prints \
            {"job","key","score","model_version","run_id","computed_at","age_seconds"}: key and \
            run_id as strings, computed_at in RFC 3339 (UTC), age_seconds since computed_at. Exits 1 \
            when the key has no score.
            """)

    @Argument(help: "The job's name.")
    var job: String

    @Argument(help: "The entity key (an integer key in decimal).")
    var key: String

    @OptionGroup var jobsDirectory: JobsDirectoryOption
    @OptionGroup var redis: RedisOptions

    func run() throws {
        let store = try redis.scoreStore(job: job, jobsDirectory: jobsDirectory.jobsDirectory)
        guard let (score, run) = try store.score(forKey: key) else {
            let published = try store.published()
            throw CLIError(
                .invalidInput,
                published.map { "\(job): key \(key) has no score in the published run \($0.runID)" }
                    ?? "\(job): no run is published yet (run prescore run \(job))")
        }
        let now = Date().timeIntervalSince1970
        print(
            JSONText.object([
                ("job", .string(job)), ("key", .string(key)), ("score", .number(score)),
                ("model_version", .string(run.modelVersion)), ("run_id", .string(String(run.runID))),
                ("computed_at", .string(Self.rfc3339(run.computedAt))),
                ("age_seconds", .number(max(0, Int64(now) - run.computedAt))),
            ]))
    }

    /// Unix seconds as `2026-11-23T02:15:00Z`.
    static func rfc3339(_ unixSeconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(unixSeconds)))
    }
}
