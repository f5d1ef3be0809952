import PrescoreTestSupport
import Testing

@testable import PrescorePostgres

@Suite struct PostgresConnectionTests {
    @Test func runsQueriesWithParametersAndNulls() throws {
        let connection = try PostgresConnection(url: TestServers.databaseURL)
        let result = try connection.execute(
            "SELECT $1::int + 1 AS n, $2::text AS t, NULL::int AS z", ["41", nil])
        #expect(result.columns == ["n", "t", "z"])
        #expect(result.rows == [["42", nil, nil]])
        #expect(result.scalar == "42")
    }

    @Test func queryErrorsCarryTheirSQLStateButNotTheQuery() throws {
        let connection = try PostgresConnection(url: TestServers.databaseURL)
        do {
            try connection.execute("SELECT secret_column FROM no_such_table_here WHERE x = 'value'")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .queryFailed)
            #expect(error.sqlState == "42P01")
            #expect(!error.description.contains("secret_column"))
            #expect(!error.description.contains("prescore-dev"))
        }
        // The connection stays usable after a failed statement.
        #expect(try connection.execute("SELECT 1").scalar == "1")
    }

    @Test func describeLearnsColumnsWithoutRunningTheQuery() throws {
        let connection = try PostgresConnection(url: TestServers.databaseURL)
        let described = try connection.describe(
            "SELECT 1::bigint AS key, 2.5::float8 AS a, 'x'::text AS b, 1/0 AS boom WHERE $1::int > 0")
        #expect(described.columns.map(\.name) == ["key", "a", "b", "boom"])
        #expect(described.columns.map(\.kind) == [.integer, .floatingPoint, .text, .integer])
        #expect(described.parameterCount == 1)
    }

    @Test func aWrongPasswordIsOneLineWithThePasswordHidden() throws {
        let url = TestServers.databaseURL.replacingOccurrences(
            of: ":prescore-dev@", with: ":not-the-password@")
        do {
            _ = try PostgresConnection(url: url)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .connectionFailed)
            #expect(!error.description.contains("not-the-password"))
            #expect(error.description.contains("prescore:***@127.0.0.1"))
            #expect(error.description.contains("password authentication failed"))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func anUnreachableServerSaysWhatToCheck() throws {
        let url = "postgresql://prescore:hunter2@127.0.0.1:\(TestServers.closedPort())/prescore"
        do {
            _ = try PostgresConnection(url: url)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .connectionFailed)
            #expect(
                error.description.hasPrefix(
                    "cannot connect to PostgreSQL at postgresql://prescore:***@127.0.0.1:"))
            #expect(error.description.contains("Connection refused"))
            #expect(error.description.contains("DATABASE_URL"))
            #expect(!error.description.contains("hunter2"))
        }
    }

    @Test func aKilledConnectionReportsConnectionLost() throws {
        try TestServers.withTemporaryDatabase { url in
            let victim = try PostgresConnection(url: url)
            let pid = try #require(victim.execute("SELECT pg_backend_pid()").scalar)
            let killer = try PostgresConnection(url: url)
            try killer.execute("SELECT pg_terminate_backend($1::int)", [pid])
            do {
                try victim.execute("SELECT 1")
                Issue.record("expected an error")
            } catch let error as PostgresError {
                #expect(error.code == .connectionLost)
                #expect(!victim.isHealthy)
            }
        }
    }

    @Test(arguments: [
        (
            "postgresql://u:secret@db.example:5433/app?sslmode=require",
            "postgresql://u:***@db.example:5433/app"
        ),
        ("postgres://u@h/d", "postgresql://u@h/d"),
        ("host=h port=1 user=u password=secret dbname=d", "postgresql://u:***@h:1/d"),
        ("postgresql://u:secret@h:5432/d?password=x", "postgresql://u:***@h:5432/d"),
        ("not a url = = '", "(an unparsable connection string)"),
    ])
    func redactsPasswordsInEveryForm(url: String, shown: String) {
        #expect(ConnectionURL.redacted(url) == shown)
    }
}
