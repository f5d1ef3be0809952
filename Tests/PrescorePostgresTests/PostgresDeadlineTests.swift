import Foundation
import PrescorePostgres
import PrescoreTestSupport
import Testing

@Suite struct PostgresDeadlineTests {
    /// A backend that stops answering (SIGSTOP: neither it nor its statement_timeout runs) costs
    /// a connection with a deadline that deadline, not a hang; the connection is then given up.
    @Test func aServerThatStopsAnsweringIsGivenUpAtTheDeadline() throws {
        let connection = try PostgresConnection(url: TestServers.databaseURL, deadline: .milliseconds(700))
        let pid = try #require(connection.execute("SELECT pg_backend_pid()").scalar.flatMap { Int32($0) })
        kill(pid, SIGSTOP)
        defer {
            kill(pid, SIGCONT)
            kill(pid, SIGTERM)
        }
        let started = Date()
        #expect {
            try connection.execute("SELECT 1")
        } throws: { error in
            (error as? PostgresError)?.code == .connectionLost
        }
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(!connection.isHealthy)
    }

    /// A client that goes silent inside a transaction (as behind a frozen network) holds its locks
    /// only until its deadline: the server then ends that session, and others get the lock.
    @Test func aTransactionLeftIdleReleasesItsLocksAtTheDeadline() throws {
        let silent = try PostgresConnection(url: TestServers.databaseURL, deadline: .milliseconds(500))
        let lock = "SELECT pg_try_advisory_xact_lock(\(Int64.random(in: 1...Int64.max)))"
        try silent.execute("BEGIN")
        #expect(try silent.execute(lock).scalar == "t")
        let other = try PostgresConnection(url: TestServers.databaseURL)
        try other.execute("BEGIN")
        #expect(try other.execute(lock).scalar == "f")
        try other.execute("ROLLBACK")
        usleep(1_500_000)
        try other.execute("BEGIN")
        #expect(try other.execute(lock).scalar == "t")
        try other.execute("ROLLBACK")
        #expect(throws: PostgresError.self) { try silent.execute("SELECT 1") }
    }

    /// The error that aborted a transaction is what later statements report, never "current
    /// transaction is aborted".
    @Test func theFirstErrorOfATransactionIsReported() throws {
        let connection = try PostgresConnection(url: TestServers.databaseURL)
        try connection.execute("BEGIN")
        #expect(throws: PostgresError.self) { try connection.execute("SELECT * FROM no_such_table_here") }
        #expect {
            try connection.execute("SELECT 1")
        } throws: { error in
            let error = error as? PostgresError
            return error?.sqlState == "42P01" && error?.message.contains("no_such_table_here") == true
        }
        try connection.execute("ROLLBACK")
        #expect(try connection.execute("SELECT 1").scalar == "1")
    }
}
