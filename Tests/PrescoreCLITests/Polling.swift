import Foundation

/// Polls `condition` every 50 ms until it holds or `seconds` have passed; whether it held. For
/// process tests, which watch another process's effects.
func poll(seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(50_000)
    }
    return false
}
