import PrescoreCore

/// One reading of the jobs folder: the jobs that loaded, and the problems of the files that did
/// not (each naming its file). On a reload, a job whose file now fails keeps its last good
/// definition.
public struct JobLoad: Sendable {
    public var jobs: [LoadedJob]
    /// Files that exist but could not be loaded.
    public var failedFiles: Set<String>
    /// One line each, naming file, line and field.
    public var problems: [String]

    /// Set when the folder itself could not be read: every job keeps its last definition.
    public var folderUnreadable: Bool

    public init(
        jobs: [LoadedJob], failedFiles: Set<String>, problems: [String], folderUnreadable: Bool = false
    ) {
        self.jobs = jobs
        self.failedFiles = failedFiles
        self.problems = problems
        self.folderUnreadable = folderUnreadable
    }

    /// Reads `directory`: every job that loads, and the files that do not.
    public static func read(directory: String) -> JobLoad {
        do {
            let catalog = try JobCatalog.load(directory: directory)
            return JobLoad(
                jobs: catalog.jobs, failedFiles: Set(catalog.problems.compactMap { $0.location?.file }),
                problems: catalog.problems.map(\.description))
        } catch {
            return JobLoad(jobs: [], failedFiles: [], problems: ["\(error)"], folderUnreadable: true)
        }
    }

    /// The jobs to run after a reload: the new good ones, plus the previous definition of every job
    /// whose file failed to load this time.
    public func merged(keeping previous: [LoadedJob]) -> (jobs: [LoadedJob], kept: [String]) {
        var result = jobs
        var names = Set(jobs.map(\.name))
        var kept: [String] = []
        for job in previous
        where (folderUnreadable || failedFiles.contains(job.definition.file)) && !names.contains(job.name) {
            result.append(job)
            names.insert(job.name)
            kept.append(job.name)
        }
        return (result.sorted { $0.name < $1.name }, kept)
    }
}
