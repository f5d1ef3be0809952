import Foundation
import Glibc

/// Where exposures wait while PostgreSQL is away: a folder of segment files, each one batch's rows
/// in COPY text, written to a temporary name and renamed (a crash leaves whole segments or none),
/// replayed oldest first and deleted once PostgreSQL has them. Bounded: a batch that would take it
/// past `maxBytes` is refused (the caller counts and logs it).
///
/// One process per folder: an exclusive `flock` on `spool.lock` is taken at start, so two serve
/// processes can never replay (and double-write) the same segment. Used from the recorder's
/// flushes only, one at a time.
final class ExposureSpool: @unchecked Sendable {
    // @unchecked Sendable: `bytes`, `count` and `sequence` change only in `append`, `remove` and
    // `setAside`, which the one `ExposureRecorder` calls from its flushes, and flushes never overlap
    // (each is awaited before the next starts, and `isEmpty` is read between them). `lock` is set
    // once in init.

    let directory: URL
    let maxBytes: Int
    private var bytes = 0
    /// Segments held: known without listing the folder, so a flush asks for free whether there is
    /// anything to replay.
    private var count = 0
    private var sequence = 0
    private let lock: Int32

    init(directory: String, maxBytes: Int) throws(ServeError) {
        self.directory = URL(fileURLWithPath: directory)
        self.maxBytes = maxBytes
        do {
            try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        } catch {
            throw ServeError(
                .spoolUnusable, "cannot create the exposure spool \(directory): \(error.localizedDescription)"
            )
        }
        lock = open(
            self.directory.appendingPathComponent("spool.lock").path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard lock >= 0, flock(lock, LOCK_EX | LOCK_NB) == 0 else {
            if lock >= 0 { close(lock) }
            throw ServeError(
                .spoolUnusable,
                "the exposure spool \(directory) is in use by another prescore serve: give each process its own "
                    + "(--exposure-spool)")
        }
        for segment in segments() {
            count += 1
            bytes += Self.size(of: segment)
            sequence = max(sequence, Int(segment.deletingPathExtension().lastPathComponent) ?? 0)
        }
    }

    deinit { close(lock) }

    /// Bytes held, for metrics.
    var size: Int { bytes }

    var isEmpty: Bool { count == 0 }

    /// Segments, oldest first.
    func segments() -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".copy") }.sorted().map { directory.appendingPathComponent($0) }
    }

    /// Keeps `data` as a new segment; false when the spool has no room for it or the disk refused.
    func append(_ data: [UInt8]) -> Bool {
        guard bytes + data.count <= maxBytes else { return false }
        sequence += 1
        let name = String(format: "%020d.copy", sequence)
        let temporary = directory.appendingPathComponent(name + ".tmp")
        do {
            try Data(data).write(to: temporary)
            try FileManager.default.moveItem(at: temporary, to: directory.appendingPathComponent(name))
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            return false
        }
        bytes += data.count
        count += 1
        return true
    }

    func read(_ segment: URL) -> [UInt8]? { (try? Data(contentsOf: segment)).map { Array($0) } }

    /// Renames a segment PostgreSQL refuses to `.rejected`: out of the replay, kept for a look.
    func setAside(_ segment: URL) {
        release(segment) {
            try FileManager.default.moveItem(at: $0, to: $0.appendingPathExtension("rejected"))
        }
    }

    func remove(_ segment: URL) {
        release(segment) { try FileManager.default.removeItem(at: $0) }
    }

    /// Takes `segment` out of the spool with `action`, and out of the counts when it worked.
    private func release(_ segment: URL, _ action: (URL) throws -> Void) {
        let size = Self.size(of: segment)
        guard (try? action(segment)) != nil else { return }
        bytes = max(0, bytes - size)
        count = max(0, count - 1)
    }

    private static func size(of segment: URL) -> Int {
        (try? segment.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0
    }
}
