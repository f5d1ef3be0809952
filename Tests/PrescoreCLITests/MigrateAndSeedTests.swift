import Foundation
import PrescorePostgres
import PrescoreTestSupport
import Testing

@Suite struct MigrateAndSeedTests {
    @Test func migrateIsIdempotent() throws {
        try TestServers.withTemporaryDatabase { url in
            let first = try PrescoreProcess.run(["migrate", "--database-url", url])
            #expect(first.status == 0, "\(first.standardError)")
            #expect(first.standardOutput.contains("applied migration 1: job run history"))
            let second = try PrescoreProcess.run(["migrate"], environment: ["DATABASE_URL": url])
            #expect(
                second.standardOutput.contains(
                    "schema prescore is up to date (version \(Migration.all.count))"))
        }
    }

    @Test func seedIsDeterministicAndHasMissingValues() throws {
        try TestServers.withTemporaryDatabase { url in
            let connection = try PostgresConnection(url: url)
            let row = "SELECT row_to_json(u)::text FROM demo.users u WHERE user_id = 42"
            #expect(
                try PrescoreProcess.run(["demo", "seed", "--entities", "3000", "--database-url", url]).status
                    == 0)
            let before = try connection.execute(row).scalar
            let stats = try connection.execute(
                """
                SELECT count(*), count(*) - count(f_email_age_days), count(*) - count(f_ip_risk_score),
                       sum(is_fraud::int) FROM demo.users
                """
            ).rows[0].map { Int($0!)! }
            #expect(stats[0] == 3000)
            #expect(stats[1] > 0 && stats[2] > 0, "some features are NULL")
            #expect(stats[3] > 0 && stats[3] < 300, "a realistic share of fraud")
            let again = try PrescoreProcess.run(["demo", "seed", "--entities", "3000", "--database-url", url])
            #expect(again.standardOutput.contains("already holds 3000 users"))
            #expect(
                try PrescoreProcess.run(["demo", "seed", "--entities", "100", "--database-url", url]).status
                    == 0)
            #expect(try connection.execute(row).scalar == before, "user 42 is the same whatever N is")
            #expect(try connection.execute("SELECT count(*) FROM demo.users").scalar == "100")
        }
    }

    @Test func seedRefusesANonPositiveCount() throws {
        let result = try PrescoreProcess.run(["demo", "seed", "--entities", "0"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("--entities must be 1 to 1000000000"))
    }
}
