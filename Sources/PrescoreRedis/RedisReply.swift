/// A Redis reply as a Swift value. Bulk strings stay bytes: scores are stored in binary.
public enum RedisReply: Sendable, Equatable {
    case status(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8])
    case array([RedisReply])
    case null

    /// A bulk or status reply as text.
    public var string: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    /// An `HGETALL` reply as field → value; nil when the reply is not an array.
    public var hashFields: [String: String]? {
        guard case .array(let items) = self else { return nil }
        var fields: [String: String] = [:]
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            if let name = items[index].string { fields[name] = items[index + 1].string }
        }
        return fields
    }

    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }
}
