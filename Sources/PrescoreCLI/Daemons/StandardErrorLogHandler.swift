import Logging

/// swift-log's `StreamLogHandler` on standard error, same lines, with its metadata formatted when a
/// message is logged rather than each time the metadata changes. Hummingbird gives every request's
/// logger a request id; formatting it there cost `serve` about 3% of its CPU a hit (perf, 64
/// connections), for messages almost never logged.
struct StandardErrorLogHandler: LogHandler {
    private var output: StreamLogHandler
    var metadata: Logger.Metadata = [:]

    init(label: String) {
        output = StreamLogHandler.standardError(label: label)
    }

    var logLevel: Logger.Level {
        get { output.logLevel }
        set { output.logLevel = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { output.metadataProvider }
        set { output.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var output = self.output
        output.metadata = metadata
        output.log(event: event)
    }
}
