extension RedisConnection {
    /// Calls `body` with each batch of keys that SCAN finds for `pattern`, until the cursor comes
    /// back to 0. SCAN never blocks Redis the way KEYS does; `count` is its per-step hint.
    public func scan(
        matching pattern: String, count: Int = 1_000, _ body: ([String]) throws(RedisError) -> Void
    ) throws(RedisError) {
        var cursor = "0"
        repeat {
            let reply = try command("SCAN", cursor, "MATCH", pattern, "COUNT", String(count))
            guard case .array(let parts) = reply, parts.count == 2, let next = parts[0].string,
                case .array(let keys) = parts[1]
            else { throw unexpectedReply(reply, to: "SCAN") }
            let names = keys.compactMap(\.string)
            if !names.isEmpty { try body(names) }
            cursor = next
        } while cursor != "0"
    }

    /// One section of `INFO` (`server`, `memory`, …) as its `name:value` fields. No fields when the
    /// server refuses INFO (an ACL user without it on a managed Redis): callers treat what they miss
    /// as unknown. Only a broken connection throws.
    public func info(_ section: String) throws(RedisError) -> [String: String] {
        guard let text = try command("INFO", section).string else { return [:] }
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
                .trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    /// The error for a reply of the wrong shape: the server's own message when it sent an error.
    func unexpectedReply(_ reply: RedisReply, to command: String) -> RedisError {
        if case .error(let message) = reply {
            return RedisError(.commandFailed, message, server: url.description)
        }
        return RedisError(.commandFailed, "unexpected reply to \(command)", server: url.description)
    }
}
