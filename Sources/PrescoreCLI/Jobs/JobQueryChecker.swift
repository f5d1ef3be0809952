import PrescoreBatch
import PrescoreCore
import PrescoreJobs
import PrescorePostgres

/// Checks a job's queries against PostgreSQL without running them: the server prepares each one
/// and describes its columns, which must be a `key` (integer or text) and numeric features that
/// bind to the model.
enum JobQueryChecker {
    struct Report {
        var problems: [CoreError] = []
        /// Facts worth telling but not wrong, such as a model binding by position.
        var notes: [String] = []
    }

    static func check(_ job: LoadedJob, on connection: PostgresConnection) -> Report {
        var report = Report()
        let definition = job.definition
        check(
            definition.sourceQuery, field: "source.query", parameters: 0, job: job, on: connection,
            report: &report)
        if let realtime = definition.realtime {
            check(
                realtime.query, field: "realtime.query", parameters: 1, job: job, on: connection,
                report: &report)
        }
        return report
    }

    private static func check(
        _ query: String, field: String, parameters expectedParameters: Int, job: LoadedJob,
        on connection: PostgresConnection, report: inout Report
    ) {
        let location = job.definition.location(of: field)
        func problem(_ message: String, _ code: CoreError.Code = .invalidJobFile) {
            report.problems.append(CoreError(code, message, at: location))
        }
        let described: (columns: [PostgresColumn], parameterCount: Int)
        do {
            described = try connection.describe(query)
        } catch {
            if error.code == .connectionFailed || error.code == .connectionLost {
                problem(error.description)
            } else {
                problem(
                    "PostgreSQL refuses the query: \(error.message)"
                        + (error.sqlState.map { " (SQLSTATE \($0))" } ?? ""))
            }
            return
        }
        if described.parameterCount != expectedParameters {
            problem(
                expectedParameters == 0
                    ? "the query takes \(described.parameterCount) parameters; it must take none"
                    : "the query takes \(described.parameterCount) parameters; it must take one, $1, the key")
        }
        let checked = SourceColumns(columns: described.columns, scorer: job.scorer)
        for found in checked.problems { problem(found.message, found.code) }
        // What `prescore run` sends is the query wrapped by its plan: prepare that too, so that
        // validate accepts exactly what a run accepts.
        if expectedParameters == 0, checked.problems.isEmpty {
            do {
                let plan = try SourcePlan(source: query, columns: described.columns, scorer: job.scorer)
                _ = try connection.describe(plan.query)
            } catch {
                problem("the query cannot be run as a batch source: \(error)")
            }
        }
        if checked.binding?.isPositional == true {
            report.notes.append(
                "\(job.definition.name): the model has no feature names, so \(field) binds by "
                    + "position: its columns after key, in order")
        }
    }
}
