import Foundation
import PrescoreCore

/// Every job of a jobs folder, each with its model loaded, plus every problem found on the way.
///
/// Loading never stops at the first bad file: `jobs validate` reports all of them, and a daemon can
/// keep the good jobs running while a bad file is fixed.
public struct JobCatalog: Sendable {
    public var jobs: [LoadedJob] = []
    public var problems: [CoreError] = []
    /// The files read, in name order.
    public var files: [String] = []

    /// A job file is a page of YAML; anything larger is not one (and is not read into memory).
    public static let maxFileBytes = 1 << 20

    /// Reads `directory/*.yaml` (and `*.yml`), in file-name order.
    public static func load(directory: String) throws(JobsError) -> JobCatalog {
        try checkFolder(directory)
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw JobsError(
                .folderMissing, "jobs folder \(directory) cannot be read: \(error.localizedDescription)")
        }
        let names = entries.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        var catalog = JobCatalog()
        var firstFileForName: [String: String] = [:]
        for name in names {
            let file = (directory as NSString).appendingPathComponent(name)
            catalog.files.append(file)
            guard let size = try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int,
                size <= maxFileBytes, let data = FileManager.default.contents(atPath: file)
            else {
                let readable = FileManager.default.isReadableFile(atPath: file)
                catalog.problems.append(
                    CoreError(
                        .invalidJobFile,
                        readable
                            ? "the file is over \(maxFileBytes) bytes: not a job file"
                            : "cannot read the file",
                        at: .init(file: file)))
                continue
            }
            let text = String(decoding: data, as: UTF8.self)
            let outcome = JobFileParser.parse(text, file: file, directory: directory)
            catalog.problems += outcome.problems
            guard let definition = outcome.job else { continue }
            if let first = firstFileForName[definition.name] {
                // Neither file runs: which one the user meant cannot be guessed.
                catalog.jobs.removeAll { $0.definition.name == definition.name }
                catalog.problems.append(
                    CoreError(
                        .invalidJobFile,
                        "job name '\(definition.name)' is also defined by \(first): a job name must be "
                            + "unique in the folder, so neither file is used",
                        at: definition.location(of: "name")))
                continue
            }
            firstFileForName[definition.name] = file
            do {
                let scorer = try ModelLoader.scorer(
                    for: definition.model, at: definition.location(of: "model.path"))
                catalog.jobs.append(LoadedJob(definition: definition, scorer: scorer, text: text))
            } catch {
                catalog.problems.append(error)
            }
        }
        catalog.refuseSharedExperiments()
        return catalog
    }

    /// Throws when `directory` is not a folder: the one problem that stops every job loading.
    public static func checkFolder(_ directory: String) throws(JobsError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory),
            isDirectory.boolValue
        else {
            throw JobsError(.folderMissing, "jobs folder \(directory) does not exist (set --jobs-dir)")
        }
    }

    /// The job called `name`. When there is none, the error lists the jobs there are, and the
    /// problems of the file that may have held it.
    public func job(named name: String, directory: String) throws(JobsError) -> LoadedJob {
        if let job = jobs.first(where: { $0.definition.name == name }) { return job }
        let known = jobs.map(\.definition.name).joined(separator: ", ")
        var message = "no job named \(name) in \(directory) (jobs: \(known.isEmpty ? "none" : known))"
        let related = problems.filter {
            $0.location?.file.contains(name) == true || $0.message.contains("job name '\(name)'")
        }
        if !related.isEmpty { message += "\n" + related.map(\.description).joined(separator: "\n") }
        throw JobsError(.noSuchJob, message)
    }
}
