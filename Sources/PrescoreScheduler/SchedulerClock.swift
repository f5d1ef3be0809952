import Foundation
import Synchronization

/// Where the scheduler reads the time. The seam exists for tests: `ManualClock` lets them walk a
/// scheduler through hours of slots, downtime and DST changes in milliseconds.
public protocol SchedulerClock: Sendable {
    func now() -> Date
}

/// The machine's clock. Instances sharing a database must keep their clocks within a small part
/// of the lease of each other (NTP does), since leases expire by these clocks.
public struct SystemClock: SchedulerClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that only moves when told to.
public final class ManualClock: SchedulerClock {
    private let time: Mutex<Date>

    public init(_ start: Date) {
        time = Mutex(start)
    }

    public func now() -> Date { time.withLock { $0 } }

    public func set(_ date: Date) { time.withLock { $0 = date } }

    public func advance(by seconds: TimeInterval) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
}
