import Foundation
import Logging
import Metrics
import PrescoreBatch
import PrescoreCore
import PrescorePostgres
import ServiceLifecycle
import Synchronization

/// Records exposures off the hot path: a request appends to an in-memory buffer (a lock held for
/// an append); every `interval` the buffer is written to `prescore.exposures` with one COPY on an
/// executor thread. While PostgreSQL is away, batches go to the on-disk `ExposureSpool` and are
/// replayed, oldest first, before newer ones once it returns. Nothing is lost while the spool has
/// room; what is dropped past it (or past `maxBuffered` in memory) is counted
/// (`prescore_exposures_dropped_total`) and logged. On graceful shutdown the buffer is flushed
/// once more. Delivery is at least once: a COPY that committed just as its connection broke is
/// replayed from the spool (a duplicate exposure of a unit changes no unit-level figure but its
/// exposure count).
final class ExposureRecorder: Service, Sendable {
    let databaseURL: String
    let spool: ExposureSpool
    let interval: Duration
    let maxBuffered: Int
    let logger: Logger
    /// Each job's experiment, registered in `prescore.experiments` on every new connection.
    let experiments: [(job: String, experiment: Experiment)]
    private let buffer = Mutex<[Exposure]>([])
    /// Touched only by flushes, which never overlap.
    private let connection = Mutex<PostgresConnection?>(nil)
    private let written = Counter(label: "prescore_exposures_written_total")
    private let spooled = Counter(label: "prescore_exposures_spooled_total")
    private let dropped = Counter(label: "prescore_exposures_dropped_total")
    private let spoolBytes = Gauge(label: "prescore_exposure_spool_bytes")

    init(
        databaseURL: String, experiments: [(job: String, experiment: Experiment)], spool: ExposureSpool,
        interval: Duration, maxBuffered: Int = 200_000, logger: Logger
    ) {
        self.databaseURL = databaseURL
        self.experiments = experiments
        self.spool = spool
        self.interval = interval
        self.maxBuffered = maxBuffered
        self.logger = logger
        spoolBytes.record(spool.size)
    }

    /// Called by requests: never blocks beyond an append.
    func record(_ exposure: Exposure) {
        let kept = buffer.withLock { buffer -> Bool in
            guard buffer.count < maxBuffered else { return false }
            buffer.append(exposure)
            return true
        }
        if !kept { dropped.increment() }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.interval)
                await self.flush()
            }
        }
        await flush()
    }

    /// Writes what is buffered (and what the spool holds) now.
    func flush() async {
        let batch = buffer.withLock { buffer -> [Exposure] in
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }
        guard !batch.isEmpty || !spool.isEmpty else { return }
        _ = try? await BlockingExecutor.shared.run("prescore-exposures") { self.write(batch) }
    }

    /// On an executor thread: the spool first, then the batch; what cannot be written is spooled.
    private func write(_ batch: [Exposure]) {
        let text = batch.isEmpty ? [] : ExperimentTables.copyText(batch)
        if replaySpool(), !text.isEmpty {
            do {
                try ExperimentTables.writeExposures(text, on: try connected())
                written.increment(by: batch.count)
                return
            } catch let error as PostgresError where error.isDataError {
                dropped.increment(by: batch.count)
                logger.error("exposures refused by PostgreSQL", metadata: ["error": "\(error)"])
                return
            } catch {
                dropConnection(error)
            }
        }
        guard !text.isEmpty else { return }
        if spool.append(text) {
            spooled.increment(by: batch.count)
        } else {
            dropped.increment(by: batch.count)
            logger.error(
                "exposures dropped: PostgreSQL is away and the spool is full",
                metadata: [
                    "count": "\(batch.count)", "spool": "\(spool.directory.path)",
                    "max_bytes": "\(spool.maxBytes)",
                ])
        }
        spoolBytes.record(spool.size)
    }

    /// Writes the spool's segments, oldest first; true when it is empty afterwards.
    private func replaySpool() -> Bool {
        for segment in spool.segments() {
            guard let data = spool.read(segment) else { continue }
            do {
                let rows = try ExperimentTables.writeExposures(data, on: try connected())
                spool.remove(segment)
                written.increment(by: rows)
                logger.info("spooled exposures written", metadata: ["rows": "\(rows)"])
            } catch let error as PostgresError where error.isDataError {
                // Rows PostgreSQL refuses would block the spool forever: set aside, kept for a look.
                spool.setAside(segment)
                logger.error(
                    "spooled exposures refused by PostgreSQL; set aside",
                    metadata: ["segment": "\(segment.path)", "error": "\(error)"])
            } catch {
                dropConnection(error)
                spoolBytes.record(spool.size)
                return false
            }
        }
        spoolBytes.record(spool.size)
        return true
    }

    private func connected() throws -> PostgresConnection {
        if let connection = connection.withLock({ $0 }), connection.isHealthy { return connection }
        let made = try PostgresConnection(
            url: databaseURL, applicationName: "prescore serve exposures", deadline: .seconds(10))
        try Migrator().migrate(made)
        for (job, experiment) in experiments { try ExperimentTables.register(experiment, job: job, on: made) }
        connection.withLock { $0 = made }
        return made
    }

    private func dropConnection(_ error: any Error) {
        connection.withLock { $0 = nil }
        logger.warning("cannot write exposures; spooling them", metadata: ["error": "\(error)"])
    }
}
