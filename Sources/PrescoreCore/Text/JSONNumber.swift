import Foundation

/// A number as `JSONSerialization` hands it back, told apart from a boolean: `true` and `false`
/// come back as NSNumbers too (of type char, "c"), where a JSON number is a long long or a double.
public enum JSONNumber {
    /// The number `value` holds, or nil when it is anything else (a boolean included).
    public static func value(_ value: Any?) -> Double? {
        guard let number = value as? NSNumber, String(cString: number.objCType) != "c" else { return nil }
        return number.doubleValue
    }
}
