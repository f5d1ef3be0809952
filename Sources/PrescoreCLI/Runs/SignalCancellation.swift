import Dispatch
import Foundation
import PrescoreBatch
import Synchronization

/// Turns SIGINT and SIGTERM into a cancelled run instead of a killed process: the run stops at its
/// next batch, removes its keys and records itself as cancelled, and the command exits 130 (SIGINT)
/// or 143 (SIGTERM), as a shell reports a process killed by that signal.
///
/// A second signal exits at once with the same status: the way out of a command that waits on a
/// server that does not answer. A run left behind that way is found by its lapsed heartbeat
/// (README, "Abandoned runs") and cleaned up by the next command that looks.
final class SignalCancellation {
    private var sources: [any DispatchSourceSignal] = []
    private let received = ReceivedSignal()

    init(_ flag: CancellationFlag) {
        for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(number, SIG_IGN)  // the dispatch source receives it instead
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            let received = self.received
            source.setEventHandler {
                if received.record(number) {
                    flag.cancel("cancelled by \(name)")
                } else {
                    printError("\(name) again: exiting now")
                    exit(128 + number)
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// The exit status the command ends with when a signal cancelled it: 128 + the signal number.
    var exitStatus: Int32 { received.first.map { 128 + $0 } ?? 130 }

    deinit {
        for source in sources { source.cancel() }
    }
}

/// The first signal received; later ones only say "again".
private final class ReceivedSignal: Sendable {
    private let state = Mutex<Int32?>(nil)

    /// Records `number`; true when it is the first signal.
    func record(_ number: Int32) -> Bool {
        state.withLock { first in
            guard first == nil else { return false }
            first = number
            return true
        }
    }

    var first: Int32? { state.withLock { $0 } }
}
