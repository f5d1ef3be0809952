import Foundation

/// A file's bytes for the CSV reader, with bounds that make endless or binary input fail fast
/// instead of filling memory: at most `maxLineBytes` between two line feeds (a record, or a quoted
/// cell, can be no longer) and no NUL byte (text CSV never has one). Once a bound is crossed the
/// stream ends with an error and `problem` says which.
final class BoundedInputStream: InputStream {
    static let defaultMaxLineBytes = 1 << 20

    private let inner: InputStream
    private let maxLineBytes: Int
    private var lineBytes = 0
    private var offset = 0
    /// Why the stream stopped early, with the byte offset.
    private(set) var problem: String?

    init?(fileAtPath path: String, maxLineBytes: Int = defaultMaxLineBytes) {
        guard let inner = InputStream(fileAtPath: path) else { return nil }
        self.inner = inner
        self.maxLineBytes = maxLineBytes
        super.init(data: Data())
    }

    override func open() { inner.open() }
    override func close() { inner.close() }
    override var streamStatus: Stream.Status { problem == nil ? inner.streamStatus : .error }
    // Not forwarded: reading `streamError` of a file stream that has none traps in this Foundation.
    override var streamError: (any Error)? { nil }
    override var hasBytesAvailable: Bool { problem == nil && inner.hasBytesAvailable }

    override func read(_ buffer: UnsafeMutablePointer<UInt8>, maxLength: Int) -> Int {
        guard problem == nil else { return -1 }
        let count = inner.read(buffer, maxLength: maxLength)
        guard count > 0 else { return count }
        for index in 0..<count {
            switch buffer[index] {
            case 0:
                problem = "a NUL byte at byte \(offset + index + 1): this is not a text CSV file"
                return -1
            case UInt8(ascii: "\n"):
                lineBytes = 0
            default:
                lineBytes += 1
                if lineBytes > maxLineBytes {
                    problem =
                        "more than \(maxLineBytes) bytes without a line break at byte \(offset + index + 1)"
                    return -1
                }
            }
        }
        offset += count
        return count
    }
}
