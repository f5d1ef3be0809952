/// Hand-written JSON for output that is a contract (`runs --format json`, `get`, `serve`'s answers):
/// fields in a fixed order, explicit nulls, and floats printed as their shortest round-trip decimal
/// (Foundation's encoder widens a Float to Double and prints `0.1` as `0.10000000149011612`). Also
/// the fastest way to write the few fields of a hot-path answer.
public enum JSONText {
    /// A JSON value, already rendered.
    public struct Value: Sendable {
        public let text: String

        /// Text that is already JSON (a nested object or array rendered before).
        public init(text: String) { self.text = text }

        public static func string(_ value: String?) -> Value {
            Value(text: value.map(JSONText.quoted) ?? "null")
        }
        public static func bool(_ value: Bool) -> Value { Value(text: value ? "true" : "false") }
        public static func number(_ value: some BinaryInteger) -> Value { Value(text: "\(value)") }
        public static func number(_ value: Float) -> Value {
            Value(text: value.isFinite ? "\(value)" : "null")
        }
        public static func number(_ value: Double?) -> Value {
            Value(text: value.map { $0.isFinite ? "\($0)" : "null" } ?? "null")
        }
        public static func array(_ values: [Value]) -> Value {
            Value(text: "[" + values.map(\.text).joined(separator: ",") + "]")
        }
        public static func numbers(_ values: [Double]) -> Value { array(values.map { number($0) }) }
        public static func object(_ fields: [(String, Value)]) -> Value {
            Value(text: JSONText.object(fields))
        }
    }

    public static func object(_ fields: [(String, Value)]) -> String {
        "{" + fields.map { "\(quoted($0.0)):\($0.1.text)" }.joined(separator: ",") + "}"
    }

    public static func quoted(_ text: String) -> String {
        // The usual key or name needs no escape: one copy.
        if text.utf8.allSatisfy({
            $0 >= 0x20 && $0 != 0x7f && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\")
        }) {
            return "\"" + text + "\""
        }
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f:
                result +=
                    "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
