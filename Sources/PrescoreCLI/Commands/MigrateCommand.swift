import ArgumentParser
import PrescorePostgres

struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Create or upgrade the prescore schema in PostgreSQL.",
        discussion: """
            Applies the numbered migrations the database has not seen, each in its own transaction. \
            Safe to run again, and safe when several processes run it at once (an advisory lock \
            serialises them).
            """)

    @OptionGroup var database: DatabaseOptions

    func run() throws {
        let connection = try database.connect()
        let applied = try Migrator().migrate(connection)
        let version = try Migrator().appliedVersions(connection).last ?? 0
        if applied.isEmpty {
            print("schema prescore is up to date (version \(version))")
        } else {
            for migration in applied { print("applied migration \(migration.version): \(migration.name)") }
            print("schema prescore is at version \(version)")
        }
    }
}
