import Foundation
import PrescoreBatch

/// Shows a run's progress on standard error: a line rewritten in place on a terminal, else a log
/// line every few seconds (for log collectors, which would store every rewrite).
struct ProgressReporter {
    let job: String
    let isTerminal = isatty(STDERR_FILENO) == 1
    private var lastShown = -Double.infinity

    init(job: String) {
        self.job = job
    }

    mutating func show(_ progress: BatchProgress) {
        let interval = isTerminal ? 0.25 : 5
        guard progress.elapsedSeconds - lastShown >= interval else { return }
        lastShown = progress.elapsedSeconds
        let rows = progress.counts.read
        let rate = progress.elapsedSeconds > 0 ? Double(rows) / progress.elapsedSeconds : 0
        var line = "\(job): \(rows) rows, \(Int(rate)) rows/s"
        if progress.expectedRows > rows, rate > 0 {
            line += ", ETA \(Int((Double(progress.expectedRows - rows) / rate).rounded(.up)))s"
        }
        if isTerminal {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
        } else {
            printError(line)
        }
    }

    /// Ends the rewritten line before the summary.
    func finish() {
        if isTerminal && lastShown > -Double.infinity {
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        }
    }
}
