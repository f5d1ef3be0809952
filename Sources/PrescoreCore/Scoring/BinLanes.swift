// Compiled twice, into PrescoreCore and PrescoreScoringAVX2: see XGBoostModel+Kernel.swift.
#if PRESCORE_SCORING_AVX2
    import PrescoreCore
#endif

/// The lanes of one vector of bins: `SIMD32<Int8>` for byte bins, `SIMD16<Int16>` for 16-bit ones.
///
/// The kernel is generic over the width, but the vector operations it needs are requirements here,
/// implemented on each concrete type: in generic code, `.>` or `&+` resolve to the `SIMD` protocol's
/// lane-by-lane fallbacks (specialization does not switch them to the concrete types' vector
/// instructions), which measured hundreds of times slower. So each conformance spells out the same
/// few lines for its own type. Masks are kept as vectors, a true lane all ones.
protocol BinLanes: SIMD where Scalar: FixedWidthInteger & SignedInteger {
    /// The top levels decided with vector compares. Level `k` costs `2ᵏ` compares and about as many
    /// selects per vector; past this level a scalar step per row is cheaper (measured).
    static var vectorLevels: Int { get }
    /// All ones in the lanes where `a` is greater than `b` (signed).
    static func greater(_ a: Self, _ b: Self) -> Self
    /// `whenClear` in the lanes where `mask` is zero, `whenSet` where it is all ones.
    static func pick(_ whenClear: Self, _ whenSet: Self, by mask: Self) -> Self
    /// `2 × path + 1` in the lanes where `decision` is all ones, `2 × path` elsewhere.
    static func append(_ decision: Self, to path: Self) -> Self
}

extension SIMD32<Int8>: BinLanes {
    static var vectorLevels: Int { 6 }  // level 6 would cost about 10 operations a row, a scalar step 8

    @inline(__always)
    static func greater(_ a: Self, _ b: Self) -> Self { unsafeBitCast(a .> b, to: Self.self) }

    @inline(__always)
    static func pick(_ whenClear: Self, _ whenSet: Self, by mask: Self) -> Self {
        let set = unsafeBitCast(mask, to: SIMDMask<Self>.self)
        let clear = unsafeBitCast(whenClear, to: SIMDMask<Self>.self)
        return unsafeBitCast(
            (clear .& .!set) .| (unsafeBitCast(whenSet, to: SIMDMask<Self>.self) .& set), to: Self.self)
    }

    @inline(__always)
    static func append(_ decision: Self, to path: Self) -> Self { path &+ path &- decision }
}

extension SIMD16<Int16>: BinLanes {
    static var vectorLevels: Int { 4 }  // half the lanes of bytes: the break-even comes a level sooner

    @inline(__always)
    static func greater(_ a: Self, _ b: Self) -> Self { unsafeBitCast(a .> b, to: Self.self) }

    @inline(__always)
    static func pick(_ whenClear: Self, _ whenSet: Self, by mask: Self) -> Self {
        let set = unsafeBitCast(mask, to: SIMDMask<Self>.self)
        let clear = unsafeBitCast(whenClear, to: SIMDMask<Self>.self)
        return unsafeBitCast(
            (clear .& .!set) .| (unsafeBitCast(whenSet, to: SIMDMask<Self>.self) .& set), to: Self.self)
    }

    @inline(__always)
    static func append(_ decision: Self, to path: Self) -> Self { path &+ path &- decision }
}
