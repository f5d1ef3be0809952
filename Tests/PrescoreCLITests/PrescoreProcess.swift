import Foundation

/// Runs the built `prescore` executable, as a user or a script would.
struct PrescoreProcess {
    var status: Int32
    var standardOutput: String
    var standardError: String

    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `prescore` beside the test bundle (same build), else in `.build/debug`.
    static let executable: URL = {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("prescore")
        if FileManager.default.isExecutableFile(atPath: besideTests.path) { return besideTests }
        return repositoryRoot.appendingPathComponent(".build/debug/prescore")
    }()

    /// A `prescore` process started in the background, for tests that act on it while it runs.
    struct Running {
        let process: Process
        let output: Pipe
        let error: Pipe

        /// Waits for the process to end and collects what it printed. Both pipes are read to the
        /// end before waiting, so a large output cannot fill a pipe and block.
        func finish() -> PrescoreProcess {
            let errorData = error.fileHandleForReading.readDataToEndOfFile()
            let outputData = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return PrescoreProcess(
                status: process.terminationStatus,
                standardOutput: String(decoding: outputData, as: UTF8.self),
                standardError: String(decoding: errorData, as: UTF8.self))
        }
    }

    static func start(
        _ arguments: [String], environment: [String: String] = [:], directory: URL = repositoryRoot
    ) throws -> Running {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let running = Running(process: process, output: Pipe(), error: Pipe())
        process.standardOutput = running.output
        process.standardError = running.error
        try process.run()
        return running
    }

    @discardableResult
    static func run(
        _ arguments: [String], environment: [String: String] = [:], directory: URL = repositoryRoot
    ) throws -> PrescoreProcess {
        try start(arguments, environment: environment, directory: directory).finish()
    }
}
