import CLibPQ

/// Shows a libpq connection string (URI or `key=value` form) for messages, password hidden.
///
/// libpq parses it, so whatever libpq accepts is shown the way libpq understood it; a string libpq
/// cannot parse is not echoed at all, since it may hold a password in a place we do not know.
public enum ConnectionURL {
    /// How a connection string that libpq cannot parse is shown.
    public static let unparsable = "(an unparsable connection string)"

    public static func redacted(_ conninfo: String) -> String {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            if let errorMessage { PQfreemem(errorMessage) }
            return unparsable
        }
        defer { PQconninfoFree(options) }
        var values: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { values[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        let user = values["user"].map { $0 + (values["password"] != nil ? ":***@" : "@") } ?? ""
        let host = values["host"] ?? values["hostaddr"] ?? "localhost"
        let port = values["port"].map { ":\($0)" } ?? ""
        let database = values["dbname"].map { "/\($0)" } ?? ""
        return "postgresql://\(user)\(host)\(port)\(database)"
    }
}
