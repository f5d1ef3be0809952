import PrescoreCore

extension JobCatalog {
    /// The job running experiment `name`. When there is none, the error lists the experiments
    /// there are.
    public func experiment(named name: String, directory: String) throws(JobsError) -> (
        job: LoadedJob, experiment: Experiment
    ) {
        for job in jobs {
            if let experiment = job.definition.experiment, experiment.name == name {
                return (job, experiment)
            }
        }
        let known = jobs.compactMap { $0.definition.experiment?.name }.joined(separator: ", ")
        throw JobsError(
            .noSuchJob,
            "no job in \(directory) runs an experiment named \(name) (experiments: \(known.isEmpty ? "none" : known))"
        )
    }

    /// Drops the jobs whose experiment name another job already uses: exposures and outcomes are
    /// filed by experiment name, so two jobs sharing one would mix their entities.
    mutating func refuseSharedExperiments() {
        var firstJob: [String: String] = [:]
        var shared: Set<String> = []
        for job in jobs {
            guard let name = job.definition.experiment?.name else { continue }
            if let first = firstJob[name] {
                shared.insert(name)
                problems.append(
                    CoreError(
                        .invalidJobFile,
                        "experiment '\(name)' is also run by job \(first): an experiment name must be unique, "
                            + "so neither job is used",
                        at: job.definition.location(of: "experiment")))
            } else {
                firstJob[name] = job.name
            }
        }
        jobs.removeAll { $0.definition.experiment.map { shared.contains($0.name) } ?? false }
    }
}
