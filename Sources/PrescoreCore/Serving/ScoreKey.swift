/// An entity key as a reader sends it: checked before it reaches Redis or PostgreSQL, where it is
/// only ever a bound parameter or a hash field, never part of a command or a statement.
public enum ScoreKey {
    public static let maxBytes = 256

    /// Why `key` is refused, or nil when it may be looked up. A control character is C0 (below
    /// U+0020), DEL, or C1 (U+0080–U+009F, in UTF-8 `C2 80`–`C2 9F`); checked on the bytes, since
    /// this runs for every request.
    public static func problem(_ key: String) -> String? {
        var utf8 = key.utf8.makeIterator()
        var count = 0
        var previous: UInt8 = 0
        while let byte = utf8.next() {
            count += 1
            if byte < 0x20 || byte == 0x7f || (previous == 0xc2 && (0x80...0x9f).contains(byte)) {
                return "the key holds a control character"
            }
            previous = byte
        }
        if count == 0 { return "the key is empty" }
        if count > maxBytes { return "the key is longer than \(maxBytes) bytes" }
        return nil
    }

    /// `text` with its `%XX` escapes decoded (as UTF-8), or nil when an escape is malformed or the
    /// bytes are not UTF-8. Without a `%`, the text itself.
    public static func percentDecoded(_ text: Substring) -> String? {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue)
            else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
