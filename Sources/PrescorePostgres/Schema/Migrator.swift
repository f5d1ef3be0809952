/// Brings the `prescore` schema up to date: creates it on first use, then applies every migration
/// the database has not seen, each in its own transaction, in version order.
///
/// Safe when several processes run it at once (two schedulers starting together): all of it happens
/// under one session-level advisory lock, so the second process waits and then finds nothing to do.
public struct Migrator: Sendable {
    public let migrations: [Migration]
    /// The schema the bookkeeping table lives in.
    public let schema: String

    /// The advisory lock key: "prescore" in ASCII, so it is recognisable in `pg_locks`.
    public static let lockKey: Int64 = 0x7072_6573_636f_7265

    public init(migrations: [Migration] = Migration.all, schema: String = "prescore") {
        precondition(
            zip(migrations, migrations.dropFirst()).allSatisfy { $0.version < $1.version },
            "migrations must be in increasing version order")
        self.migrations = migrations
        self.schema = schema
    }

    /// Applies what is missing and returns the migrations it applied (empty when up to date).
    @discardableResult
    public func migrate(_ connection: PostgresConnection) throws(PostgresError) -> [Migration] {
        try connection.execute("SELECT pg_advisory_lock(\(Self.lockKey))")
        do {
            let applied = try applyPending(connection)
            try connection.execute("SELECT pg_advisory_unlock(\(Self.lockKey))")
            return applied
        } catch {
            // The lock is the session's: closing the connection releases it too, but a caller may
            // keep using this connection after the error.
            _ = try? connection.execute("SELECT pg_advisory_unlock(\(Self.lockKey))")
            throw error
        }
    }

    /// The versions already applied, oldest first; empty when the schema does not exist yet.
    public func appliedVersions(_ connection: PostgresConnection) throws(PostgresError) -> [Int] {
        let exists =
            try connection.execute(
                "SELECT to_regclass($1) IS NOT NULL", ["\(schema).schema_migrations"]
            ).scalar == "t"
        guard exists else { return [] }
        return try connection.execute("SELECT version FROM \(schema).schema_migrations ORDER BY version")
            .rows.compactMap { $0[0].flatMap { Int($0) } }
    }

    private func applyPending(_ connection: PostgresConnection) throws(PostgresError) -> [Migration] {
        try connection.execute(
            """
            CREATE SCHEMA IF NOT EXISTS \(schema);
            CREATE TABLE IF NOT EXISTS \(schema).schema_migrations (
                version    integer     PRIMARY KEY,
                name       text        NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let applied = Set(try appliedVersions(connection))
        if let newest = applied.max(), newest > (migrations.last?.version ?? 0) {
            throw PostgresError(
                .migrationFailed,
                "the database's \(schema) schema is at version \(newest), newer than this prescore "
                    + "knows (\(migrations.last?.version ?? 0)): upgrade prescore",
                server: connection.server)
        }
        var done: [Migration] = []
        for migration in migrations where !applied.contains(migration.version) {
            do {
                try connection.execute("BEGIN")
                try connection.execute(migration.sql)
                try connection.execute(
                    "INSERT INTO \(schema).schema_migrations (version, name) VALUES ($1, $2)",
                    [String(migration.version), migration.name])
                try connection.execute("COMMIT")
            } catch {
                _ = try? connection.execute("ROLLBACK")
                throw PostgresError(
                    .migrationFailed,
                    "migration \(migration.version) (\(migration.name)) failed: \(error.message)",
                    sqlState: error.sqlState, server: connection.server)
            }
            done.append(migration)
        }
        return done
    }
}
