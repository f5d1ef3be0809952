/// Each feature's distinct split thresholds, sorted, so that a feature value can be replaced by a small
/// integer, its bin, before the trees are walked.
///
/// Exactness: with `t₀ < t₁ < … < tₘ₋₁` the feature's thresholds, a value `v` gets bin
/// `1 + #{i : tᵢ ≤ v}`, and `v ≥ tᵢ` holds exactly when its bin is at least `i + 2`. So comparing bins
/// decides every split as comparing `Float`s does, for every value, infinities and signed zeros
/// included. A missing value (NaN) gets bin 0, and each node sends bin 0 its own default way (see
/// `QuantizedForest.Node`). A feature with more distinct thresholds than `width` holds is not binned;
/// trees that split on it take the float path.
package struct FeatureBins: Sendable {
    package let width: BinWidth

    /// Per feature, its sorted distinct thresholds; empty for a feature that is not binned.
    package let thresholds: [[Float]]
    /// Per binned feature, `thresholds` as order keys (see `key`) padded with `Int32.max` to a power of
    /// two less one, for a binary search without branches; the search takes `searchLevels[f]` steps
    /// and starts at `searchOffset[f]`.
    package let padded: [Int32]
    package let searchOffset: [Int]
    package let searchLevels: [Int]
    /// The features that are binned, in order: only these are converted for each block.
    package let binnedFeatures: [Int]

    init(splits: [(feature: Int, threshold: Float)], featureCount: Int) {
        var sets = [Set<Float>](repeating: [], count: featureCount)
        for split in splits { sets[split.feature].insert(split.threshold) }
        let width = BinWidth(fitting: sets.map(\.count).max() ?? 0)
        let thresholds = sets.map { $0.count <= width.maxThresholds ? $0.sorted() : [] }
        var padded: [Int32] = []
        var offsets: [Int] = []
        var levels: [Int] = []
        for values in thresholds {
            let size = values.isEmpty ? 1 : 1 << (Int.bitWidth - (values.count).leadingZeroBitCount)
            offsets.append(padded.count)
            levels.append(size.trailingZeroBitCount)
            padded += values.map(Self.key) + [Int32](repeating: .max, count: size - 1 - values.count)
        }
        self.width = width
        self.thresholds = thresholds
        self.padded = padded
        self.searchOffset = offsets
        self.searchLevels = levels
        binnedFeatures = (0..<featureCount).filter { !thresholds[$0].isEmpty }
    }

    func isBinned(_ feature: Int) -> Bool { !thresholds[feature].isEmpty }

    /// The position of `threshold` among `feature`'s sorted thresholds.
    func index(of threshold: Float, feature: Int) -> Int {
        let values = thresholds[feature]
        var low = 0
        var high = values.count
        while low < high {
            let middle = (low + high) / 2
            if values[middle] < threshold { low = middle + 1 } else { high = middle }
        }
        precondition(low < values.count && values[low] == threshold, "threshold not among the feature's")
        return low
    }
}
