import Yams

/// A YAML mapping read key by key, remembering where each value stood, so that every problem can be
/// reported with file, line, column and the dotted field path. Problems are collected, not thrown, so
/// one pass over a file reports all of them.
struct YAMLMapping {
    let file: String
    let path: String
    let node: Node
    private let pairs: [(key: String, keyNode: Node, value: Node)]

    /// Wraps `node`, or records a problem and returns nil when it is not a mapping.
    init?(_ node: Node, file: String, path: String, problems: inout [CoreError]) {
        guard case .mapping(let mapping) = node else {
            problems.append(
                CoreError(
                    .invalidJobFile, "expected a mapping of keys to values",
                    at: Self.location(of: node, file: file, path: path)))
            return nil
        }
        self.file = file
        self.path = path
        self.node = node
        self.pairs = mapping.map { (key: $0.key.string ?? "", keyNode: $0.key, value: $0.value) }
    }

    func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The value of `key`, nil when absent or written as null.
    func value(_ key: String) -> Node? {
        guard let value = pairs.first(where: { $0.key == key })?.value else { return nil }
        if case .scalar(let scalar) = value, scalar.style == .plain, value.null != nil { return nil }
        return value
    }

    func location(_ key: String) -> SourceLocation {
        let node = value(key) ?? pairs.first(where: { $0.key == key })?.keyNode ?? node
        return Self.location(of: node, file: file, path: fieldPath(key))
    }

    func problem(_ key: String, _ message: String, code: CoreError.Code = .invalidJobFile) -> CoreError {
        CoreError(code, message, at: location(key))
    }

    /// Records unknown and repeated keys; `known` lists every key this mapping may have.
    func checkKeys(known: [String], problems: inout [CoreError]) {
        var seen = Set<String>()
        for pair in pairs {
            let at = Self.location(of: pair.keyNode, file: file, path: fieldPath(pair.key))
            if !known.contains(pair.key) {
                problems.append(
                    CoreError(
                        .invalidJobFile,
                        "unknown key '\(pair.key)'; expected one of: \(known.joined(separator: ", "))",
                        at: at))
            } else if !seen.insert(pair.key).inserted {
                problems.append(CoreError(.invalidJobFile, "key '\(pair.key)' is given twice", at: at))
            }
        }
    }

    /// A scalar's text, whatever YAML would resolve it to (`version: 2026-11-01` stays text).
    func string(_ key: String, required: Bool, problems: inout [CoreError]) -> String? {
        guard let value = value(key) else {
            if required { problems.append(problem(key, "'\(fieldPath(key))' is required")) }
            return nil
        }
        guard case .scalar(let scalar) = value else {
            problems.append(problem(key, "expected text, found a \(Self.kind(of: value))"))
            return nil
        }
        return scalar.string
    }

    /// An SQL query: its text without trailing white space and `;` (one statement is what a job
    /// runs; a terminator is accepted because psql users write one), empty refused.
    func query(_ key: String, problems: inout [CoreError]) -> String? {
        guard let text = string(key, required: true, problems: &problems) else { return nil }
        var query = Substring(text)
        while let last = query.last, last.isWhitespace || last == ";" { query = query.dropLast() }
        guard !query.trimmingPrefix(while: \.isWhitespace).isEmpty else {
            problems.append(problem(key, "the query is empty"))
            return nil
        }
        return String(query)
    }

    func integer(_ key: String, problems: inout [CoreError]) -> Int? {
        guard let value = value(key) else { return nil }
        guard let integer = value.int else {
            problems.append(problem(key, "expected a whole number"))
            return nil
        }
        return integer
    }

    func boolean(_ key: String, problems: inout [CoreError]) -> Bool? {
        guard let value = value(key) else { return nil }
        guard let boolean = value.bool else {
            problems.append(problem(key, "expected true or false"))
            return nil
        }
        return boolean
    }

    func number(_ key: String, required: Bool, problems: inout [CoreError]) -> Double? {
        guard let value = value(key) else {
            if required { problems.append(problem(key, "'\(fieldPath(key))' is required")) }
            return nil
        }
        guard let number = value.float, number.isFinite else {
            problems.append(problem(key, "expected a number"))
            return nil
        }
        return number
    }

    func duration(_ key: String, problems: inout [CoreError]) -> Duration? {
        guard let text = string(key, required: false, problems: &problems) else { return nil }
        do {
            return try DurationParser.parse(text)
        } catch let error as CoreError {
            problems.append(problem(key, error.message, code: .invalidDuration))
            return nil
        } catch {
            return nil
        }
    }

    /// A required list of text (`[a, b]` or a block list).
    func strings(_ key: String, problems: inout [CoreError]) -> [String]? {
        guard let value = value(key) else {
            problems.append(problem(key, "'\(fieldPath(key))' is required"))
            return nil
        }
        guard case .sequence(let sequence) = value, let items = Optional(sequence.map(\.string)),
            items.allSatisfy({ $0 != nil })
        else {
            problems.append(problem(key, "expected a list of names, such as [f0, f1]"))
            return nil
        }
        return items.map { $0! }
    }

    func mapping(_ key: String, required: Bool, problems: inout [CoreError]) -> YAMLMapping? {
        guard let value = value(key) else {
            if required { problems.append(problem(key, "'\(fieldPath(key))' is required")) }
            return nil
        }
        return YAMLMapping(value, file: file, path: fieldPath(key), problems: &problems)
    }

    /// The mapping's entries in file order, for free-form mappings such as model weights.
    var entries: [(key: String, value: Node, location: SourceLocation)] {
        pairs.map { ($0.key, $0.value, Self.location(of: $0.value, file: file, path: fieldPath($0.key))) }
    }

    static func location(of node: Node, file: String, path: String) -> SourceLocation {
        SourceLocation(
            file: file, line: node.mark?.line, column: node.mark?.column,
            field: path.isEmpty ? nil : path)
    }

    private static func kind(of node: Node) -> String {
        switch node {
        case .scalar: "value"
        case .mapping: "mapping"
        case .sequence: "list"
        case .alias: "alias"
        }
    }
}
