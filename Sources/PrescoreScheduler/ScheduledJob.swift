import PrescoreCore

/// A job as the scheduler runs it: the definition, its loaded model, and the file's text (whose
/// hash each run records).
public struct ScheduledJob: Sendable {
    public var definition: JobDefinition
    public var scorer: any Scorer
    public var text: String

    public init(definition: JobDefinition, scorer: any Scorer, text: String) {
        self.definition = definition
        self.scorer = scorer
        self.text = text
    }

    public var name: String { definition.name }
}

/// One reading of the jobs folder: the jobs that loaded, and the problems of the files that did
/// not (each naming its file). On a reload, a job whose file now fails keeps its last good
/// definition.
public struct JobLoad: Sendable {
    public var jobs: [ScheduledJob]
    /// Files that exist but could not be loaded.
    public var failedFiles: Set<String>
    /// One line each, naming file, line and field.
    public var problems: [String]

    /// Set when the folder itself could not be read: every job keeps its last definition.
    public var folderUnreadable: Bool

    public init(
        jobs: [ScheduledJob], failedFiles: Set<String>, problems: [String], folderUnreadable: Bool = false
    ) {
        self.jobs = jobs
        self.failedFiles = failedFiles
        self.problems = problems
        self.folderUnreadable = folderUnreadable
    }

    /// The jobs to run after a reload: the new good ones, plus the previous definition of every job
    /// whose file failed to load this time.
    public func merged(keeping previous: [ScheduledJob]) -> (jobs: [ScheduledJob], kept: [String]) {
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
