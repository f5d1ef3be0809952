/// A feature cell of an input CSV. Only plain decimal numbers are values (`12`, `-0.5`, `.5`,
/// `1e-3`); an empty cell and `NaN` (any case) are missing values, which follow each tree node's
/// default direction as in XGBoost. Everything else, hexadecimal (`0x1p3`), `inf`, and numbers
/// beyond a 32-bit float's range (`1e39`, `1e400`), is refused, never turned into a value.
enum DecimalCell: Equatable {
    case missing
    case value(Float)
    case invalid(String)

    static func parse(_ cell: String) -> DecimalCell {
        if cell.isEmpty || cell.lowercased() == "nan" { return .missing }
        guard isDecimal(Substring(cell).utf8) else { return .invalid("not a decimal number") }
        // Parsed as a double first, then rounded once to Float, as XGBoost does with float64 input.
        guard let double = Double(cell), double.isFinite, Float(double).isFinite else {
            return .invalid("out of the range of a 32-bit float")
        }
        return .value(Float(double))
    }

    /// `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`
    static func isDecimal(_ bytes: Substring.UTF8View) -> Bool {
        var index = bytes.startIndex
        func digits() -> Int {
            var count = 0
            while index < bytes.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                index = bytes.index(after: index)
                count += 1
            }
            return count
        }
        func skip(_ characters: String) -> Bool {
            guard index < bytes.endIndex, characters.utf8.contains(bytes[index]) else { return false }
            index = bytes.index(after: index)
            return true
        }
        _ = skip("+-")
        var mantissa = digits()
        if skip(".") { mantissa += digits() }
        guard mantissa > 0 else { return false }
        if skip("eE") {
            _ = skip("+-")
            guard digits() > 0 else { return false }
        }
        return index == bytes.endIndex
    }
}
