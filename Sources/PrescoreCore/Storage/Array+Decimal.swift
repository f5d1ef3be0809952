extension Array where Element == UInt8 {
    /// Appends `value` in decimal ASCII (`-` first when negative), without building a `String`: the
    /// text of an integer entity key, and numbers in Redis commands, on the batch path's hot loop.
    @inlinable
    public mutating func appendDecimal(_ value: Int64) {
        if value < 0 { append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let start = count
        repeat {
            append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        self[start...].reverse()
    }

    /// How many bytes `appendDecimal(value)` appends.
    @inlinable
    public static func decimalLength(_ value: Int64) -> Int {
        var magnitude = value.magnitude
        var length = value < 0 ? 2 : 1
        while magnitude >= 10 {
            magnitude /= 10
            length += 1
        }
        return length
    }
}
