/// An entity key as a reader sends it: checked before it reaches Redis or PostgreSQL, where it is
/// only ever a bound parameter or a hash field, never part of a command or a statement.
public enum ScoreKey {
    public static let maxBytes = 256

    /// Why `key` is refused, or nil when it may be looked up.
    public static func problem(_ key: String) -> String? {
        if key.isEmpty { return "the key is empty" }
        if key.utf8.count > maxBytes { return "the key is longer than \(maxBytes) bytes" }
        if key.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "the key holds a control character"
        }
        return nil
    }
}
