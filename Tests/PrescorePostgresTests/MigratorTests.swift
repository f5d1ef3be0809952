import Foundation
import PrescoreTestSupport
import Synchronization
import Testing

@testable import PrescorePostgres

@Suite struct MigratorTests {
    @Test func createsTheSchemaThenDoesNothing() throws {
        try TestServers.withTemporaryDatabase { url in
            let connection = try PostgresConnection(url: url)
            let migrator = Migrator()
            #expect(try migrator.appliedVersions(connection) == [])
            #expect(try migrator.migrate(connection).map(\.version) == Migration.all.map(\.version))
            #expect(try migrator.migrate(connection).isEmpty)
            #expect(try migrator.appliedVersions(connection) == Migration.all.map(\.version))
            #expect(
                try connection.execute("SELECT to_regclass('prescore.job_runs') IS NOT NULL").scalar == "t")
        }
    }

    @Test func upgradesAnOlderSchemaWithOnlyTheNewMigrations() throws {
        try TestServers.withTemporaryDatabase { url in
            let connection = try PostgresConnection(url: url)
            let first = Migration(version: 1, name: "one", sql: "CREATE TABLE prescore.a (x int)")
            let second = Migration(version: 2, name: "two", sql: "ALTER TABLE prescore.a ADD COLUMN y int")
            try Migrator(migrations: [first]).migrate(connection)
            #expect(try Migrator(migrations: [first, second]).migrate(connection).map(\.version) == [2])
            #expect(
                try connection.execute(
                    "SELECT count(*) FROM information_schema.columns WHERE table_name = 'a'"
                )
                .scalar == "2")
            // A binary that knows fewer migrations than the database refuses to run against it.
            #expect(throws: PostgresError.self) { try Migrator(migrations: [first]).migrate(connection) }
        }
    }

    @Test func aFailingMigrationIsRolledBackAndNamed() throws {
        try TestServers.withTemporaryDatabase { url in
            let connection = try PostgresConnection(url: url)
            let good = Migration(version: 1, name: "good", sql: "CREATE TABLE prescore.a (x int)")
            let bad = Migration(version: 2, name: "bad", sql: "CREATE TABLE prescore.b (x int); SELECT nope")
            do {
                try Migrator(migrations: [good, bad]).migrate(connection)
                Issue.record("expected an error")
            } catch let error as PostgresError {
                #expect(error.code == .migrationFailed)
                #expect(error.message.contains("migration 2 (bad)"))
            }
            #expect(try Migrator().appliedVersions(connection) == [1])
            #expect(try connection.execute("SELECT to_regclass('prescore.b') IS NULL").scalar == "t")
            // The advisory lock was released: another session can take it at once.
            let other = try PostgresConnection(url: url)
            #expect(try other.execute("SELECT pg_try_advisory_lock(\(Migrator.lockKey))").scalar == "t")
        }
    }

    @Test func concurrentMigratorsApplyEachMigrationOnce() throws {
        try TestServers.withTemporaryDatabase { url in
            // A slow migration widens the window in which a second process could interfere.
            let slow = Migration(
                version: 1, name: "slow", sql: "SELECT pg_sleep(0.3); CREATE TABLE prescore.a (x int)")
            let next = Migration(version: 2, name: "next", sql: "CREATE TABLE prescore.b (x int)")
            let migrator = Migrator(migrations: [slow, next])
            let results = Results()
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                do {
                    let connection = try PostgresConnection(url: url)
                    results.add(.success(try migrator.migrate(connection).map(\.version)))
                } catch {
                    results.add(.failure(error))
                }
            }
            let outcomes = results.all
            #expect(outcomes.count == 4)
            let applied = outcomes.compactMap { try? $0.get() }
            #expect(applied.count == 4, "every process must succeed: \(outcomes)")
            #expect(applied.flatMap { $0 }.sorted() == [1, 2], "each migration applied exactly once")
            let connection = try PostgresConnection(url: url)
            #expect(try connection.execute("SELECT count(*) FROM prescore.schema_migrations").scalar == "2")
        }
    }
}

/// Outcomes collected from concurrent workers.
private final class Results: Sendable {
    private let storage = Mutex<[Result<[Int], any Error>]>([])
    func add(_ result: Result<[Int], any Error>) { storage.withLock { $0.append(result) } }
    var all: [Result<[Int], any Error>] { storage.withLock { $0 } }
}
