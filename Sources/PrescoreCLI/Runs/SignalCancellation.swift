import Dispatch
import Foundation
import PrescoreBatch

/// Turns SIGINT and SIGTERM into a cancelled run instead of a killed process: the run stops at its
/// next batch, removes its keys and records itself as cancelled.
final class SignalCancellation {
    private var sources: [any DispatchSourceSignal] = []

    init(_ flag: CancellationFlag) {
        for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(number, SIG_IGN)  // the dispatch source receives it instead
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { flag.cancel("cancelled by \(name)") }
            source.resume()
            sources.append(source)
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }
}
