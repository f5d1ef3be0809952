/// Decodes PostgreSQL's binary COPY format incrementally: bytes go in as they arrive, in chunks of
/// any size (a chunk may end in the middle of a field), and complete rows come out.
///
/// Format: an 11-byte signature, a 32-bit flags word and a header-extension length (skipped); then
/// per row a 16-bit field count and, per field, a 32-bit length (−1 for NULL) and that many bytes; a
/// field count of −1 ends the data. All integers are big-endian.
///
/// Rows are handed out as a `BinaryCopyRow` view into the decoder's own buffer, valid only during the
/// callback, so decoding allocates nothing per row.
public struct BinaryCopyDecoder: Sendable {
    static let signature: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00]

    private var pending: [UInt8] = []
    private var headerDone = false
    public private(set) var isFinished = false
    /// Rows decoded so far.
    public private(set) var rowCount = 0
    /// Each field of the row being decoded: where it starts and its length (-1 for NULL). Sized to
    /// the widest row so far; written through one pointer a row, so decoding a field costs no
    /// reference counting or uniqueness check.
    private var fields: [BinaryCopyRow.Field] = []

    public init() {}

    /// Feeds `bytes` and calls `body` for every row they complete. Throws
    /// `PostgresError.protocolViolation` on a malformed stream; rethrows what `body` throws.
    public mutating func feed(
        _ bytes: UnsafeRawBufferPointer, _ body: (BinaryCopyRow) throws -> Void
    ) throws {
        // Moved out of `self` (not copied), so `self` can change while the bytes are read; moved back,
        // less what was consumed, on every exit.
        var data: [UInt8] = []
        swap(&data, &pending)
        data.append(contentsOf: bytes)
        var consumed = 0
        defer {
            data.removeFirst(consumed)
            swap(&data, &pending)
        }
        var fields: [BinaryCopyRow.Field] = []
        swap(&fields, &self.fields)
        defer { swap(&fields, &self.fields) }
        try data.withUnsafeBytes { buffer in
            if !headerDone {
                let fixed = Self.signature.count + 8
                guard buffer.count >= fixed else { return }
                guard buffer.prefix(Self.signature.count).elementsEqual(Self.signature) else {
                    throw Self.violation("the stream does not start with the binary COPY signature")
                }
                let extensionLength = Int(Self.int32(buffer, Self.signature.count + 4))
                guard buffer.count >= fixed + extensionLength else { return }
                consumed = fixed + extensionLength
                headerDone = true
            }
            while !isFinished, buffer.count - consumed >= 2 {
                let fieldCount = Int(Self.int16(buffer, consumed))
                if fieldCount == -1 {
                    isFinished = true
                    consumed += 2
                    break
                }
                guard fieldCount >= 0 else { throw Self.violation("negative field count \(fieldCount)") }
                if fields.count < fieldCount {
                    fields = [BinaryCopyRow.Field](repeating: .init(offset: 0, length: -1), count: fieldCount)
                }
                let complete = try fields.withUnsafeMutableBufferPointer { fields in
                    guard
                        let end = try Self.rowEnd(
                            buffer, from: consumed, fieldCount: fieldCount, into: fields)
                    else { return false }
                    try body(
                        BinaryCopyRow(buffer: buffer, fields: UnsafeBufferPointer(fields), count: fieldCount))
                    consumed = end
                    return true
                }
                guard complete else { break }
                rowCount += 1
            }
        }
    }

    /// Where the row of `fieldCount` fields starting at `start` ends, or nil when `buffer` does not
    /// hold all of it yet. Fills `fields` with the row's fields.
    private static func rowEnd(
        _ buffer: UnsafeRawBufferPointer, from start: Int, fieldCount: Int,
        into fields: UnsafeMutableBufferPointer<BinaryCopyRow.Field>
    ) throws -> Int? {
        var position = start + 2
        for field in 0..<fieldCount {
            guard buffer.count - position >= 4 else { return nil }
            let length = Int(int32(buffer, position))
            position += 4
            guard length >= -1 else { throw violation("negative field length \(length)") }
            fields[field] = BinaryCopyRow.Field(offset: position, length: length)
            if length > 0 {
                guard buffer.count - position >= length else { return nil }
                position += length
            }
        }
        return position
    }

    static func int16(_ buffer: UnsafeRawBufferPointer, _ offset: Int) -> Int16 {
        Int16(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: Int16.self))
    }

    static func int32(_ buffer: UnsafeRawBufferPointer, _ offset: Int) -> Int32 {
        Int32(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: Int32.self))
    }

    private static func violation(_ message: String) -> PostgresError {
        PostgresError(.protocolViolation, "binary COPY: \(message)", server: "")
    }
}

/// One decoded row: its fields as views into the decoder's buffer. Valid only during the callback that
/// received it; keep values, never the row.
public struct BinaryCopyRow {
    struct Field {
        var offset: Int
        var length: Int
    }

    private let buffer: UnsafeRawBufferPointer
    private let fields: UnsafeBufferPointer<Field>
    public let count: Int

    init(buffer: UnsafeRawBufferPointer, fields: UnsafeBufferPointer<Field>, count: Int) {
        self.buffer = buffer
        self.fields = fields
        self.count = count
    }

    public func isNull(_ field: Int) -> Bool { fields[field].length == -1 }

    /// A field's raw bytes (valid only during the callback), or nil when NULL.
    public func bytes(_ field: Int) -> UnsafeRawBufferPointer? {
        let field = fields[field]
        guard field.length >= 0 else { return nil }
        return UnsafeRawBufferPointer(rebasing: buffer[field.offset..<(field.offset + field.length)])
    }

    /// An `int2`, `int4` or `int8` field (by its length), or nil when NULL.
    public func integer(_ field: Int) -> Int64? {
        let field = fields[field]
        let offset = field.offset
        switch field.length {
        case 8: return Int64(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: Int64.self))
        case 4: return Int64(Int32(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
        case 2: return Int64(Int16(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: Int16.self)))
        default: return nil
        }
    }

    /// A `float8` (or `float4`, by its length) field, or nil when NULL.
    public func double(_ field: Int) -> Double? {
        let field = fields[field]
        let offset = field.offset
        switch field.length {
        case 8:
            return Double(
                bitPattern: UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
        case 4:
            return Double(
                Float(
                    bitPattern: UInt32(
                        bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self))))
        default: return nil
        }
    }

    /// A `text` field as UTF-8 text, or nil when NULL.
    public func text(_ field: Int) -> String? {
        bytes(field).map { String(decoding: $0, as: UTF8.self) }
    }
}
