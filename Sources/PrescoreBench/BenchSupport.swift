import ArgumentParser
import Foundation
import PrescoreCore

/// What every benchmark needs: the server it reads, a timer, and external commands (psql, Python).
enum BenchSupport {
    /// `DATABASE_URL`, else what `make services` starts.
    static var databaseURL: String {
        ProcessInfo.processInfo.environment["DATABASE_URL"]
            ?? "postgresql://prescore:prescore-dev@127.0.0.1:55432/prescore"
    }

    /// The best wall time of `repetitions` runs of `body`, in seconds.
    static func bestSeconds(repetitions: Int, _ body: () throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<repetitions {
            let start = ContinuousClock.now
            try body()
            best = min(best, (ContinuousClock.now - start).totalSeconds)
        }
        return best
    }

    /// Runs `executable` (a path, or a name looked up on PATH) and returns its standard output, or
    /// discards it. Fails when the command exits non-zero.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], discardOutput: Bool = false) throws -> String
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.contains("/") ? executable : "/usr/bin/env")
        process.arguments = executable.contains("/") ? arguments : [executable] + arguments
        let pipe = Pipe()
        process.standardOutput = discardOutput ? FileHandle(forWritingAtPath: "/dev/null") : pipe
        try process.run()
        let data = discardOutput ? Data() : pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(executable) failed with status \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
