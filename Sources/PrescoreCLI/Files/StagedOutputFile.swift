import Foundation
import Glibc

/// An output file written the safe way: into a new temporary file beside the destination
/// (created exclusively, so no existing file is ever opened), then renamed over it in one step
/// once everything is written. A failure halfway leaves the destination as it was.
///
/// The destination may be absent or a regular file (replaced, as `-o` does everywhere); a
/// directory, a link, a device or anything else is refused before a byte is written.
struct StagedOutputFile {
    let destination: String
    let stagingPath: String

    init(destination: String) throws {
        var status = stat()
        if lstat(destination, &status) == 0 {
            let kind = status.st_mode & S_IFMT
            guard kind == S_IFREG else {
                let what =
                    kind == S_IFDIR
                    ? "a directory" : kind == S_IFLNK ? "a symbolic link" : "not a regular file"
                throw CLIError(.fileNotReadable, "--output \(destination) is \(what); give a file path")
            }
        } else if errno != ENOENT {
            throw CLIError(
                .fileNotReadable, "cannot use --output \(destination): \(String(cString: strerror(errno)))")
        }
        let url = URL(fileURLWithPath: destination)
        let folder = url.deletingLastPathComponent().path
        let name = ".\(url.lastPathComponent).\(UInt64.random(in: 0...UInt64.max)).partial"
        stagingPath = (folder as NSString).appendingPathComponent(name)
        self.destination = destination
        let fd = open(stagingPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw CLIError(
                .fileNotReadable, "cannot write beside \(destination): \(String(cString: strerror(errno)))")
        }
        close(fd)
    }

    /// Replaces the destination with what was written.
    func commit() throws {
        guard rename(stagingPath, destination) == 0 else {
            let why = String(cString: strerror(errno))
            abandon()
            throw CLIError(.fileNotReadable, "cannot write \(destination): \(why)")
        }
    }

    /// Writes `text` to `destination` the safe way, in one go.
    static func write(_ text: String, to destination: String) throws {
        let file = try StagedOutputFile(destination: destination)
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: file.stagingPath))
        } catch {
            file.abandon()
            throw CLIError(.fileNotReadable, "cannot write \(destination): \(error.localizedDescription)")
        }
        try file.commit()
    }

    /// Removes the temporary file; the destination is untouched.
    func abandon() {
        unlink(stagingPath)
    }
}
