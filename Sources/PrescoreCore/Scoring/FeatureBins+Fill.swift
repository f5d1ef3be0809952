// Compiled twice, into PrescoreCore and PrescoreScoringAVX2: see XGBoostModel+Kernel.swift.
#if PRESCORE_SCORING_AVX2
    import PrescoreCore
#endif

extension FeatureBins {
    /// Writes the bins of `rows` rows (row-major `features`, `featureCount` values a row) into
    /// `columns`, the layout `QuantizedForest` walks: for each group of `lanes` rows and each feature,
    /// two columns of `lanes` bins of type `Bin` (see `QuantizedForest.Node`), 32 bytes each.
    /// Rows past `rows` in the last group get bin 0; their scores are never read.
    @inline(__always)
    func fill<Bin: FixedWidthInteger & SignedInteger>(
        _: Bin.Type, columns: UnsafeMutableRawPointer, features: UnsafePointer<Float>, rows: Int,
        featureCount: Int
    ) {
        let lanes = QuantizedForest.vectorBytes / MemoryLayout<Bin>.size
        let groupBytes = featureCount * 2 * QuantizedForest.vectorBytes
        let groups = (rows + lanes - 1) / lanes
        let flip = Bin.min  // the top bit
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * lanes) { scratch in
            let keys = scratch.baseAddress!
            let paths = keys + lanes
            padded.withUnsafeBufferPointer { padded in
                for feature in binnedFeatures {
                    let search = padded.baseAddress! + searchOffset[feature]
                    let count = thresholds[feature].count
                    for group in 0..<groups {
                        let first = group * lanes
                        let live = min(lanes, rows - first)
                        for lane in 0..<live {
                            keys[lane] = Int(Self.key(features[(first + lane) * featureCount + feature]))
                            paths[lane] = 0
                        }
                        // Binary searches without branches, each as the binary number of its
                        // decisions: after k of the L steps, `paths[lane]` holds k bits and the next
                        // probe is at ((2 · path + 1) << (L - k - 1)) - 1. Adding a comparison bit needs
                        // no select (LLVM turns one here into a branch, mispredicted half the time),
                        // and the group's searches advance together, so each step has `live`
                        // independent loads in flight instead of one chain of dependent ones.
                        var shift = searchLevels[feature]
                        while shift > 0 {
                            shift &-= 1
                            for lane in 0..<live {
                                let path = paths[lane]
                                let probe = Int(search[((path &<< 1 | 1) &<< shift) &- 1])
                                paths[lane] =
                                    path &<< 1 | Int(unsafeBitCast(probe <= keys[lane], to: UInt8.self))
                            }
                        }
                        let a = (columns + group * groupBytes + feature * 2 * QuantizedForest.vectorBytes)
                            .assumingMemoryBound(to: Bin.self)
                        let b = a + lanes
                        for lane in 0..<lanes {
                            var bin = 0
                            if lane < live, !features[(first + lane) * featureCount + feature].isNaN {
                                bin = 1 &+ min(paths[lane], count)
                            }
                            // Stored with the top bit flipped so a signed comparison orders bins.
                            a[lane] = Bin(truncatingIfNeeded: bin) ^ flip
                            b[lane] = Bin(truncatingIfNeeded: bin &- 1) ^ flip
                        }
                    }
                }
            }
        }
    }

    /// A 32-bit integer ordered as the floats are (for all but NaN): negative floats have their
    /// magnitude bits flipped. -0 is made +0 first, as `Float` comparison treats them as equal.
    @inline(__always)
    static func key(_ value: Float) -> Int32 {
        let bits = Int32(bitPattern: (value + 0).bitPattern)
        return bits ^ ((bits &>> 31) & 0x7FFF_FFFF)
    }
}
