import Foundation

extension JobFileParser {
    static let remoteModelKeys = [
        "url", "name", "features", "input", "output", "batch_size", "concurrency", "timeout", "retries",
        "headers",
    ]

    /// `model: {kind: remote, url, name, version?, features, input: {name, datatype}, output: {name},
    /// batch_size, concurrency, timeout, retries, headers}`.
    static func parseRemoteModel(_ model: YAMLMapping, version: String?, problems: inout [CoreError])
        -> RemoteModel?
    {
        let url = model.string("url", required: true, problems: &problems)
        if let url, !(url.hasPrefix("http://") || url.hasPrefix("https://")) || URL(string: url)?.host == nil
        {
            problems.append(model.problem("url", "the url must be http:// or https:// with a host"))
        }
        let name = model.string("name", required: true, problems: &problems)
        let features = model.strings("features", problems: &problems)
        if let features, features.isEmpty || Set(features).count != features.count {
            problems.append(model.problem("features", "features must name each input column once"))
        }
        guard let url, let name, let features else { return nil }
        var remote = RemoteModel(url: url, name: name, version: version, features: features)
        if let input = model.mapping("input", required: false, problems: &problems) {
            input.checkKeys(known: ["name", "datatype"], problems: &problems)
            remote.inputName = input.string("name", required: false, problems: &problems) ?? remote.inputName
            if let text = input.string("datatype", required: false, problems: &problems) {
                if let datatype = RemoteModel.Datatype(rawValue: text) {
                    remote.datatype = datatype
                } else {
                    problems.append(input.problem("datatype", "datatype must be FP32 or FP64"))
                }
            }
        }
        if let output = model.mapping("output", required: false, problems: &problems) {
            output.checkKeys(known: ["name"], problems: &problems)
            remote.outputName = output.string("name", required: true, problems: &problems)
        }
        for (key, range, path) in [
            ("batch_size", 1...100_000, \RemoteModel.batchSize),
            ("concurrency", 1...256, \RemoteModel.concurrency),
            ("retries", 0...10, \RemoteModel.retries),
        ] {
            guard let value = model.integer(key, problems: &problems) else { continue }
            if range.contains(value) {
                remote[keyPath: path] = value
            } else {
                problems.append(
                    model.problem(key, "\(key) must be \(range.lowerBound) to \(range.upperBound)"))
            }
        }
        if let timeout = model.duration("timeout", problems: &problems) {
            if timeout >= .milliseconds(1) {
                remote.timeout = timeout
            } else {
                problems.append(model.problem("timeout", "the timeout must be longer than 0"))
            }
        }
        if let headers = model.mapping("headers", required: false, problems: &problems) {
            for entry in headers.entries {
                guard let value = entry.value.string else {
                    problems.append(
                        CoreError(.invalidJobFile, "a header value must be text", at: entry.location))
                    continue
                }
                if entry.key.lowercased() == "authorization", !value.contains("${") {
                    problems.append(
                        CoreError(
                            .invalidJobFile,
                            "the Authorization header must reference an environment variable (\"Bearer ${TOKEN}\"): "
                                + "a job file is no place for a secret", at: entry.location))
                }
                remote.headers.append(RemoteModel.Header(name: entry.key, value: value))
            }
        }
        return remote
    }
}
