import PrescoreRedis

/// Picks, from one bucket's records in arrival order, the last record of each key: a hash restored
/// whole must not hold a field twice (Redis checks that only with `sanitize-dump-payload` on, and
/// would otherwise keep both), and a key the source sent twice keeps its last score, as `HSET`s in
/// arrival order would leave it. Records with distinct fingerprints hold distinct keys, so the
/// common case is one pass over the fingerprints; only a bucket with a repeated fingerprint is
/// rebuilt, comparing key elements byte by byte. Storage is kept from bucket to bucket.
struct DistinctRecords {
    /// Open addressing, a power of two at least twice the records: a record's index, or -1.
    private var slots: [Int32] = []
    /// The records inserted, in insertion order.
    private var taken: [Int] = []
    private var starts: [Int] = []
    private var kept: [UInt8] = []

    /// Calls `body` with the records to write and how many there are.
    mutating func withLastOfEach<R>(
        _ records: UnsafeRawBufferPointer, _ fingerprints: ArraySlice<UInt32>,
        _ body: (UnsafeRawBufferPointer, Int) throws -> R
    ) rethrows -> R {
        let base = fingerprints.startIndex
        var repeated = false
        Self.insert(fingerprints, latestFirst: false, slots: &slots, taken: &taken) { _, _ in
            repeated = true
            return false
        }
        guard repeated else { return try body(records, fingerprints.count) }

        var starts = self.starts
        starts.removeAll(keepingCapacity: true)
        var offset = 0
        while offset < records.count {
            starts.append(offset)
            offset = Listpack.element(in: records, at: Listpack.element(in: records, at: offset).next).next
        }
        starts.append(records.count)
        func keyElement(_ record: Int) -> UnsafeRawBufferPointer {
            let start = starts[record - base]
            return UnsafeRawBufferPointer(
                rebasing: records[start..<Listpack.element(in: records, at: start).next])
        }
        Self.insert(fingerprints, latestFirst: true, slots: &slots, taken: &taken) { earlier, later in
            keyElement(earlier).elementsEqual(keyElement(later))
        }
        kept.removeAll(keepingCapacity: true)
        for record in taken {
            kept.append(contentsOf: records[starts[record - base]..<starts[record - base + 1]])
        }
        self.starts = starts
        return try kept.withUnsafeBytes { try body($0, taken.count) }
    }

    /// Inserts the records (latest first, or in order) into the table, skipping one whose
    /// fingerprint matches a record's already in and for which `same` says true; leaves the records
    /// inserted in `taken` and the table empty.
    private static func insert(
        _ prints: ArraySlice<UInt32>, latestFirst: Bool, slots: inout [Int32], taken: inout [Int],
        same: (Int, Int) -> Bool
    ) {
        let size = 1 << max(4, Int.bitWidth - (prints.count * 2 - 1).leadingZeroBitCount)
        if slots.count < size { slots = [Int32](repeating: -1, count: size) }
        func home(_ record: Int) -> Int {
            Int(truncatingIfNeeded: (UInt64(prints[record]) &* 0x9E37_79B9_7F4A_7C15) >> 32) & (size - 1)
        }
        taken.removeAll(keepingCapacity: true)
        records: for step in 0..<prints.count {
            let record = latestFirst ? prints.endIndex - 1 - step : prints.startIndex + step
            var slot = home(record)
            while slots[slot] >= 0 {
                let other = Int(slots[slot])
                if prints[other] == prints[record], same(other, record) { continue records }
                slot = (slot + 1) & (size - 1)
            }
            slots[slot] = Int32(record)
            taken.append(record)
        }
        for record in taken {
            var slot = home(record)
            while slots[slot] != Int32(record) { slot = (slot + 1) & (size - 1) }
            slots[slot] = -1
        }
    }
}
