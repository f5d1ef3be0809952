import Foundation
import PrescoreRedis
import PrescoreTestSupport
import Testing

@Suite struct CheckCommandTests {
    @Test func reportsBothServersAndTheirSettings() throws {
        let result = try PrescoreProcess.run(
            ["check"],
            environment: ["DATABASE_URL": TestServers.databaseURL, "REDIS_URL": TestServers.redisURL])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("ok    PostgreSQL postgresql://prescore:***@127.0.0.1"))
        #expect(result.standardOutput.contains("ok    Redis redis://127.0.0.1:"))
        #expect(result.standardOutput.contains("hash listpack limits 512 entries / 64 bytes"))
        #expect(!result.standardOutput.contains("RESTORE refused"), "\(result.standardOutput)")
    }

    @Test func anUnreachableRedisFailsWithOneLineAndThePasswordHidden() throws {
        let result = try PrescoreProcess.run(
            ["check", "--redis-url", "redis://:hunter2@127.0.0.1:\(TestServers.closedPort())/0"],
            environment: ["DATABASE_URL": TestServers.databaseURL, "REDIS_URL": "redis://ignored:1"])
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("ok    PostgreSQL"), "the other server is still reported")
        let errors = result.standardError.split(separator: "\n")
        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix("error cannot connect to Redis at redis://:***@127.0.0.1:") == true)
        #expect(!result.standardError.contains("hunter2"))
    }

    @Test func anACLUserWithoutCONFIGStillPasses() throws {
        let (result, user) = try checkAsACLUser("+@all", "-config")
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("\(user):***@"))
        #expect(result.standardOutput.contains("CONFIG GET not permitted"))
    }

    /// An ACL user without `RESTORE` (as `-@dangerous` leaves it): still usable, with a warning
    /// that batch runs will write by HSET; the probe leaves no key behind.
    @Test func anACLUserWithoutRESTOREIsWarnedAbout() throws {
        let (result, _) = try checkAsACLUser("+@all", "-@dangerous")
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("RESTORE refused (NOPERM"), "\(result.standardOutput)")
        #expect(result.standardOutput.contains("batch runs will write scores by HSET"))
        var leftover: [String] = []
        try RedisConnection(url: RedisURL(TestServers.redisURL)).scan(matching: "prescore:check:*") {
            leftover += $0
        }
        #expect(leftover.isEmpty, "\(leftover)")
    }

    /// `prescore check` as a throwaway ACL user (a password, every key) with `rules`.
    func checkAsACLUser(_ rules: String...) throws -> (result: PrescoreProcess, user: String) {
        let admin = try RedisConnection(url: RedisURL(TestServers.redisURL))
        let user = TestServers.uniqueName("check")
        try admin.command((["ACL", "SETUSER", user, "on", ">pw", "~*"] + rules).map { Array($0.utf8) })
        defer { _ = try? admin.command("ACL", "DELUSER", user) }
        let url = try RedisURL(TestServers.redisURL)
        let plain = "redis://\(user):pw@\(url.host):\(url.port)/\(url.database)"
        let result = try PrescoreProcess.run(
            ["check", "--redis-url", plain], environment: ["DATABASE_URL": TestServers.databaseURL])
        return (result, user)
    }
}
