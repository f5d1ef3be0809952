/// A block of source rows on their way through the run: keys as text bytes, features row-major in
/// the model's order (NaN for NULL), then scores. Passed by value from stage to stage, one owner at a
/// time.
struct RowBatch: Sendable {
    let featureCount: Int
    /// Rows filled so far.
    private(set) var count = 0
    /// The keys' bytes, back to back; row `i`'s key is `keyBytes[keyStarts[i]..<keyStarts[i + 1]]`.
    private(set) var keyBytes: [UInt8] = []
    private(set) var keyStarts: [Int] = [0]
    /// Rows whose key was NULL: they cannot be stored, so they count as failed.
    private(set) var nullKeys: [Bool] = []
    private(set) var features: [Float]
    /// Filled by the scoring stage; a non-finite score marks a failed row.
    var scores: [Float] = []

    init(capacity: Int, featureCount: Int) {
        self.featureCount = featureCount
        features = []
        features.reserveCapacity(capacity * featureCount)
        keyBytes.reserveCapacity(capacity * 8)
        keyStarts.reserveCapacity(capacity + 1)
        nullKeys.reserveCapacity(capacity)
    }

    /// Adds a row: `appendKey` writes its key bytes (or reports NULL by returning false), then
    /// `features` values follow through `appendFeature`.
    mutating func appendRow(key: (inout [UInt8]) -> Bool, features fill: (inout [Float]) -> Void) {
        let isNull = !key(&keyBytes)
        keyStarts.append(keyBytes.count)
        nullKeys.append(isNull)
        fill(&features)
        count += 1
    }

    func key(_ row: Int) -> ArraySlice<UInt8> { keyBytes[keyStarts[row]..<keyStarts[row + 1]] }

    func keyText(_ row: Int) -> String {
        nullKeys[row] ? "NULL" : String(decoding: key(row), as: UTF8.self)
    }

    /// True when row `row` has a key and a finite score: it will be written.
    func isWritable(_ row: Int) -> Bool { !nullKeys[row] && scores[row].isFinite }
}
