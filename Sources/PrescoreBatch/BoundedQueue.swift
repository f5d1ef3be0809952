import Foundation

/// A first-in first-out hand-over between two threads that holds at most `capacity` items: a
/// producer that runs ahead blocks, so memory stays bounded whatever the row count.
/// `close()` ends it from either side: `pop` then drains what is left and returns nil, and `push`
/// refuses new items (a consumer that failed thus unblocks its producer).
final class BoundedQueue<Element: Sendable>: @unchecked Sendable {
    // Safe to share: `items` and `closed` are read and written only while `condition` is locked.
    private let condition = NSCondition()
    private var items: [Element] = []
    private var closed = false
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Adds `item`, waiting while the queue is full. Returns false when the queue is closed.
    @discardableResult
    func push(_ item: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !closed { condition.wait() }
        guard !closed else { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// The next item, waiting while the queue is empty; nil once it is closed and empty.
    func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed { condition.wait() }
        guard !items.isEmpty else { return nil }
        let item = items.removeFirst()
        condition.broadcast()
        return item
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
