import ArgumentParser
import Foundation
import PrescorePostgres

struct DemoSeedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Create demo.users: N users with 16 fraud-risk features (some NULL) and a label.",
        discussion: """
            Deterministic: user k always gets the same values. Built inside PostgreSQL with set-based \
            SQL. A table already seeded with the same N by the same generator is kept as it is.
            """)

    @Option(name: .customLong("entities"), help: "How many users to create.")
    var entities: Int = 200_000

    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        guard (1...1_000_000_000).contains(entities) else {
            throw ValidationError("--entities must be 1 to 1000000000")
        }
    }

    func run() throws {
        let connection = try database.connect()
        let comment = DemoDataSet.comment(entities: entities)
        let existing = try connection.execute(
            "SELECT obj_description(to_regclass('demo.users'), 'pg_class')"
        ).scalar
        if existing == comment {
            print("demo.users already holds \(entities) users (generator v\(DemoDataSet.generatorVersion))")
            return
        }
        let started = Date()
        try connection.execute("BEGIN")
        do {
            try connection.execute(DemoDataSet.schema)
            try connection.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            for statement in DemoDataSet.build.split(separator: ";\n").map(String.init)
            where !statement.allSatisfy(\.isWhitespace) {
                try connection.execute(statement, statement.contains("$1") ? [String(entities)] : [])
            }
            try connection.execute("COMMENT ON TABLE demo.users IS '\(comment)'")
            try connection.execute("COMMIT")
        } catch {
            _ = try? connection.execute("ROLLBACK")
            throw error
        }
        let seconds = Date().timeIntervalSince(started)
        let fraud =
            try connection.execute("SELECT round(100.0 * avg(is_fraud::int), 2) FROM demo.users").scalar
            ?? "?"
        print(
            "seeded demo.users with \(entities) users in \(String(format: "%.1f", seconds)) s "
                + "(\(fraud)% labelled fraud)")
    }
}
