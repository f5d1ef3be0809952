/// Elements in Redis' listpack encoding, the compact form in which Redis keeps a small hash (field,
/// value, field, value, …): the batch writer encodes each score's two elements as the score
/// arrives, so that a bucket's hash is its scores' bytes back to back (`ListpackHashDump`).
///
/// An element is an encoding byte holding its kind and length (or a small integer), its data, then
/// its own size written backwards (1–5 bytes), so that a listpack can be walked from either end.
/// Text that reads as a 64-bit integer in canonical decimal is stored as that integer, as Redis
/// itself does on `HSET`. Layout as in Redis 7.0's `listpack.c` (functions named below).
public enum Listpack {
    /// A decoded element: an integer, or a string as the range of its bytes in the buffer read.
    public enum Element: Equatable {
        case integer(Int64)
        case string(Range<Int>)
    }

    /// Appends `text` as one element.
    public static func appendElement(_ text: UnsafeRawBufferPointer, to listpack: inout [UInt8]) {
        let start = listpack.count
        if let value = integer(text) {
            appendInteger(value, to: &listpack)
        } else {
            appendString(text, to: &listpack)
        }
        appendBackLength(listpack.count - start, to: &listpack)
    }

    /// The element that starts at `offset` in `bytes` (written by `appendElement`), and where the
    /// next one starts.
    public static func element(in bytes: UnsafeRawBufferPointer, at offset: Int) -> (Element, next: Int) {
        let first = bytes[offset]
        let element: Element
        let size: Int
        switch first {
        case 0x00...0x7F: (element, size) = (.integer(Int64(first)), 1)
        case 0x80...0xBF:
            let length = Int(first & 0x3F)
            (element, size) = (.string((offset + 1)..<(offset + 1 + length)), 1 + length)
        case 0xC0...0xDF:
            let raw = UInt64(first & 0x1F) << 8 | UInt64(bytes[offset + 1])
            (element, size) = (.integer(signExtended(raw, bits: 13)), 2)
        case 0xE0...0xEF:
            let length = Int(first & 0x0F) << 8 | Int(bytes[offset + 1])
            (element, size) = (.string((offset + 2)..<(offset + 2 + length)), 2 + length)
        case 0xF0:
            let length = Int(littleEndian(bytes, at: offset + 1, count: 4))
            (element, size) = (.string((offset + 5)..<(offset + 5 + length)), 5 + length)
        default:
            let count = first == 0xF4 ? 8 : Int(first - 0xF0) + 1  // 0xF1…0xF3: 2…4 bytes
            let raw = littleEndian(bytes, at: offset + 1, count: count)
            (element, size) = (.integer(signExtended(raw, bits: 8 * count)), 1 + count)
        }
        return (element, offset + size + backLengthSize(size))
    }

    /// `text` as a 64-bit integer when it is one in canonical decimal (no sign but `-`, no leading
    /// zero, not `-0`, in range): `lpStringToInt64`.
    static func integer(_ text: UnsafeRawBufferPointer) -> Int64? {
        guard (1...20).contains(text.count) else { return nil }
        if text.count == 1, text[0] == UInt8(ascii: "0") { return 0 }
        let negative = text[0] == UInt8(ascii: "-")
        var index = negative ? 1 : 0
        guard index < text.count, (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(text[index]) else {
            return nil
        }
        var magnitude: UInt64 = 0
        while index < text.count {
            let digit = text[index] &- UInt8(ascii: "0")
            guard digit <= 9 else { return nil }
            let (times10, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflow, !carry else { return nil }
            magnitude = sum
            index += 1
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return Int64(truncatingIfNeeded: 0 &- magnitude)
        }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    /// The smallest integer encoding that holds `value` (`lpEncodeIntegerGetType`).
    private static func appendInteger(_ value: Int64, to listpack: inout [UInt8]) {
        let bits = UInt64(bitPattern: value)
        switch value {
        case 0...127:
            listpack.append(UInt8(value))
        case -4096...4095:
            listpack.append(UInt8((bits & 0x1fff) >> 8) | 0xC0)
            listpack.append(UInt8(bits & 0xff))
        case -32768...32767: appendLittleEndian(bits, count: 2, after: 0xF1, to: &listpack)
        case -8_388_608...8_388_607: appendLittleEndian(bits, count: 3, after: 0xF2, to: &listpack)
        case Int64(Int32.min)...Int64(Int32.max):
            appendLittleEndian(bits, count: 4, after: 0xF3, to: &listpack)
        default: appendLittleEndian(bits, count: 8, after: 0xF4, to: &listpack)
        }
    }

    /// A string's length in 6, 12 or 32 bits, then its bytes (`lpEncodeString`).
    private static func appendString(_ string: UnsafeRawBufferPointer, to listpack: inout [UInt8]) {
        let length = string.count
        if length < 64 {
            listpack.append(UInt8(length) | 0x80)
        } else if length < 4096 {
            listpack.append(UInt8(length >> 8) | 0xE0)
            listpack.append(UInt8(length & 0xff))
        } else {
            appendLittleEndian(UInt64(length), count: 4, after: 0xF0, to: &listpack)
        }
        listpack.append(contentsOf: string)
    }

    /// An element's size, written to be read backwards: 7 bits a byte, the most significant first,
    /// every byte but the first with its high bit set (`lpEncodeBacklen`).
    private static func appendBackLength(_ size: Int, to listpack: inout [UInt8]) {
        let count = backLengthSize(size)
        for index in 0..<count {
            let bits = UInt8(truncatingIfNeeded: size >> (7 * (count - 1 - index))) & 127
            listpack.append(index == 0 ? bits : bits | 128)
        }
    }

    private static func backLengthSize(_ size: Int) -> Int {
        size <= 127 ? 1 : size < 16383 ? 2 : size < 2_097_151 ? 3 : size < 268_435_455 ? 4 : 5
    }

    private static func appendLittleEndian(
        _ bits: UInt64, count: Int, after encoding: UInt8, to listpack: inout [UInt8]
    ) {
        listpack.append(encoding)
        for byte in 0..<count { listpack.append(UInt8(truncatingIfNeeded: bits >> UInt64(8 * byte))) }
    }

    private static func littleEndian(_ bytes: UnsafeRawBufferPointer, at offset: Int, count: Int) -> UInt64 {
        (0..<count).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << UInt64(8 * $1) }
    }

    private static func signExtended(_ raw: UInt64, bits: Int) -> Int64 {
        let shift = UInt64(64 - bits)
        return Int64(bitPattern: raw << shift) >> Int64(shift)
    }
}
