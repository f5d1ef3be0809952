import Logging
import Metrics
import Prometheus

/// What every long-running command (`scheduler`, `serve`) sets up first: logs to standard error at
/// `info`, and swift-metrics backed by a Prometheus registry that its `/metrics` serves.
enum DaemonBootstrap {
    /// `histogramBuckets` sets the buckets of the named duration histograms.
    static func start(label: String, histogramBuckets: [String: [Duration]] = [:]) -> (
        Logger, PrometheusCollectorRegistry
    ) {
        LoggingSystem.bootstrap { StandardErrorLogHandler(label: $0) }
        var logger = Logger(label: label)
        logger.logLevel = .info
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets.merge(histogramBuckets) { $1 }
        MetricsSystem.bootstrap(factory)
        return (logger, registry)
    }
}
