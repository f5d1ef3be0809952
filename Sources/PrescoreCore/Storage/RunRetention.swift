/// Which of a job's runs Redis keeps after a publish, without I/O: the score store reads the
/// runs, asks, and removes what this returns (the removal re-checks, atomically, that a run is
/// not the published one).
///
/// Never removed: the published run, the newest `keepRuns − 1` others kept for rollback (a
/// rollback target among them), and any run PostgreSQL records as still writing.
public enum RunRetention {
    /// Runs to remove after a publish: kept runs beyond the newest `keepRuns − 1` besides the
    /// published one, and every run a rollback rejected. `kept` is newest first.
    public static func trim(kept: [Int64], rejected: [Int64], published: Int64?, keepRuns: Int) -> [Int64] {
        let others = kept.filter { $0 != published }
        return Array(others.dropFirst(max(0, keepRuns - 1))) + rejected.filter { $0 != published }
    }

    /// Runs a process left behind: older than every kept run (so a newer run has published since
    /// they started, and they can never publish), neither kept nor published, and not `live`
    /// (open in PostgreSQL: a slow run that started first may still be writing). Ascending.
    public static func abandoned(runs: [Int64], kept: Set<Int64>, published: Int64?, live: Set<Int64>)
        -> [Int64]
    {
        guard let oldestKept = kept.min() else { return [] }
        return runs.filter { $0 < oldestKept && !kept.contains($0) && $0 != published && !live.contains($0) }
            .sorted()
    }
}
