/// How wide a bin is: a byte when every feature has at most 254 distinct thresholds (32 rows a
/// vector), else 16 bits (16 rows a vector, up to 65,534 thresholds). Models trained with XGBoost's
/// default `max_bin` of 256 often have 255 or 256 thresholds on a feature, hence the second width.
package enum BinWidth: Sendable, Equatable {
    case byte
    case word

    /// Bin 0 is a missing value and bins 1…m+1 real ones, so m thresholds need m + 2 values.
    var maxThresholds: Int { self == .byte ? 254 : 65_534 }

    /// Bins are stored with the top bit flipped (bin − `bias`), so signed compares order them.
    var bias: Int { self == .byte ? 128 : 32_768 }

    /// The largest stored value: no bin is greater, so a node with it as threshold always goes left.
    var alwaysLeft: Int16 { self == .byte ? Int16(Int8.max) : .max }

    /// Rows one 32-byte vector of bins holds.
    package var lanes: Int { self == .byte ? 32 : 16 }

    /// The narrowest width that holds every feature with at most `count` thresholds.
    init(fitting count: Int) {
        self = count <= BinWidth.byte.maxThresholds ? .byte : .word
    }
}
