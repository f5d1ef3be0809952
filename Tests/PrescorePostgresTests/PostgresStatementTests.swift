import Foundation
import PrescoreTestSupport
import Testing

@testable import PrescorePostgres

@Suite struct PostgresStatementTests {
    @Test func bindsValuesWhereTheyAppearAndRenumbersFragments() {
        let now = Date(timeIntervalSince1970: 1_500)
        let condition: PostgresStatement = "lease_expires_at < \(time: now)"
        let job = "x'; DROP TABLE y; --"
        let statement: PostgresStatement =
            "SELECT 1 WHERE job = \(job) AND \(condition) AND n = \(Int64(7)) AND e = \(nil as String?)"
        let (sql, parameters) = statement.rendered
        #expect(
            sql
                == "SELECT 1 WHERE job = $1 AND lease_expires_at < to_timestamp($2::float8) AND n = $3 AND e = $4"
        )
        #expect(parameters == [job, "1500.0", "7", nil])
    }

    @Test func runsAgainstTheServerWithTheValuesBound() throws {
        let connection = try PostgresConnection(url: TestServers.databaseURL)
        let value = "it's $1"
        #expect(try connection.run("SELECT \(value)::text || \(Int(2))::text").scalar == "it's $12")
    }
}
