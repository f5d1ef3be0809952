/// Entity keys as text bytes, back to back in one array: key `i` is
/// `bytes[starts[i]..<starts[i + 1]]`. One allocation for a whole batch of keys, none per key.
struct PackedKeys {
    private(set) var bytes: [UInt8] = []
    private var starts: [Int] = [0]

    init(reservingCapacity capacity: Int = 0) {
        bytes.reserveCapacity(capacity * 8)
        starts.reserveCapacity(capacity + 1)
    }

    /// Adds a key that `write` appends to the bytes; returns what `write` returned.
    mutating func append(_ write: (inout [UInt8]) -> Bool) -> Bool {
        let result = write(&bytes)
        starts.append(bytes.count)
        return result
    }

    subscript(index: Int) -> ArraySlice<UInt8> { bytes[starts[index]..<starts[index + 1]] }

    /// Calls `body` with a function that gives key `i`'s bytes without copying or retaining anything
    /// per key (the writer's hot loop).
    func withKeys<R>(_ body: ((Int) -> UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { bytes in
            try starts.withUnsafeBufferPointer { starts in
                try body { index in UnsafeRawBufferPointer(rebasing: bytes[starts[index]..<starts[index + 1]])
                }
            }
        }
    }
}
