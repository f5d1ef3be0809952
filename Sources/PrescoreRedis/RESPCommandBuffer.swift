import PrescoreCore

/// Commands encoded in RESP, the Redis wire format, into one contiguous buffer: the batch writer
/// builds tens of thousands of commands a second, and encoding them here costs no allocation per
/// argument (hiredis' `...Argv` calls would copy every argument into a new string).
///
/// A command is `*N\r\n` then, per argument, `$LEN\r\nBYTES\r\n`.
public struct RESPCommandBuffer: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// Commands started so far; each gets one reply.
    public private(set) var commandCount = 0

    public init(reservingCapacity capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    /// Starts a command of `argumentCount` arguments; exactly that many `append…` calls follow.
    public mutating func beginCommand(argumentCount: Int) {
        bytes.append(UInt8(ascii: "*"))
        bytes.appendDecimal(Int64(argumentCount))
        appendNewline()
        commandCount += 1
    }

    public mutating func appendArgument(_ argument: some Collection<UInt8>) {
        beginArgument(length: argument.count)
        bytes.append(contentsOf: argument)
        appendNewline()
    }

    /// An argument from raw bytes: the batch writer's keys and scores, copied with one `memcpy`
    /// (the generic overload above is not specialized across modules, and looks up type metadata
    /// on every call).
    public mutating func appendArgument(_ argument: UnsafeRawBufferPointer) {
        beginArgument(length: argument.count)
        bytes.append(contentsOf: argument)
        appendNewline()
    }

    public mutating func appendArgument(_ text: String) {
        appendArgument(text.utf8)
    }

    /// An argument made of `stem` followed by `number` in decimal (a bucket key, for instance),
    /// without building the string.
    public mutating func appendArgument(_ stem: [UInt8], suffix number: Int) {
        beginArgument(length: stem.count + [UInt8].decimalLength(Int64(number)))
        bytes.append(contentsOf: stem)
        bytes.appendDecimal(Int64(number))
        appendNewline()
    }

    /// The `RESTORE` payload of a hash of `elementCount` listpack elements, written straight into
    /// the buffer.
    public mutating func appendRestorePayload(
        hashElements elements: UnsafeRawBufferPointer, elementCount: Int
    ) {
        beginArgument(length: ListpackHashDump.payloadCount(elementBytes: elements.count))
        ListpackHashDump.appendPayload(elements: elements, elementCount: elementCount, to: &bytes)
        appendNewline()
    }

    /// A listpack element (`Listpack.element(in:at:)`) of `bytes` as an argument: its text, an
    /// integer in decimal.
    public mutating func appendArgument(_ element: Listpack.Element, in bytes: UnsafeRawBufferPointer) {
        switch element {
        case .integer(let value):
            beginArgument(length: [UInt8].decimalLength(value))
            self.bytes.appendDecimal(value)
            appendNewline()
        case .string(let range):
            appendArgument(UnsafeRawBufferPointer(rebasing: bytes[range]))
        }
    }

    /// A whole command of text arguments.
    public mutating func append(command arguments: [String]) {
        beginCommand(argumentCount: arguments.count)
        for argument in arguments { appendArgument(argument) }
    }

    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        commandCount = 0
    }

    /// `$LEN\r\n`, what comes before an argument's bytes.
    private mutating func beginArgument(length: Int) {
        bytes.append(UInt8(ascii: "$"))
        bytes.appendDecimal(Int64(length))
        appendNewline()
    }

    private mutating func appendNewline() {
        bytes.append(13)
        bytes.append(10)
    }
}
