/// A block of source rows on their way through the run: keys as text bytes, features row-major in
/// the model's order (NaN for NULL), then scores. Passed by value from stage to stage, one owner at a
/// time.
struct RowBatch: Sendable {
    let featureCount: Int
    /// Rows filled so far.
    private(set) var count = 0
    private var keys: PackedKeys
    /// Rows whose key was NULL: they cannot be stored, so they count as failed.
    private(set) var nullKeys: [Bool] = []
    /// Room for `capacity` rows of features, allocated once; the first `count` rows are filled.
    private var features: [Float]
    /// Filled by the scoring stage; a non-finite score marks a failed row.
    var scores: [Float] = []

    init(capacity: Int, featureCount: Int) {
        self.featureCount = featureCount
        features = [Float](repeating: .nan, count: capacity * featureCount)
        keys = PackedKeys(reservingCapacity: capacity)
        nullKeys.reserveCapacity(capacity)
    }

    /// Adds a row: `key` writes its key bytes (or reports NULL by returning false), then `fill` sets
    /// its `featureCount` values in place (one buffer access a row, not one append a value). Only as
    /// many rows as the batch was created with fit.
    mutating func appendRow(
        key: (inout [UInt8]) -> Bool, features fill: (UnsafeMutableBufferPointer<Float>) -> Void
    ) {
        let isNull = !keys.append(key)
        nullKeys.append(isNull)
        let start = count * featureCount
        features.withUnsafeMutableBufferPointer { features in
            fill(UnsafeMutableBufferPointer(rebasing: features[start..<(start + featureCount)]))
        }
        count += 1
    }

    /// The filled rows' features, row-major.
    func withFeatures<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try features.withUnsafeBufferPointer {
            try body(UnsafeBufferPointer(rebasing: $0[0..<(count * featureCount)]))
        }
    }

    func key(_ row: Int) -> ArraySlice<UInt8> { keys[row] }

    /// Calls `body` with a function that gives row `i`'s key bytes without copying or retaining
    /// anything per row.
    func withKeys<R>(_ body: ((Int) -> UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try keys.withKeys(body)
    }

    func keyText(_ row: Int) -> String {
        nullKeys[row] ? "NULL" : String(decoding: key(row), as: UTF8.self)
    }

    /// True when row `row` has a key and a finite score: it will be written.
    func isWritable(_ row: Int) -> Bool { !nullKeys[row] && scores[row].isFinite }
}
