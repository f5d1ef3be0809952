import PrescoreTestSupport
import Testing

@testable import PrescoreRedis

/// Against the real Redis of `make services`. Every test uses keys and users of its own.
@Suite struct RedisConnectionTests {
    let url: RedisURL
    let prefix = TestServers.uniqueName("test")

    init() throws { url = try RedisURL(TestServers.redisURL) }

    @Test func storesAndReadsBinaryValues() throws {
        let connection = try RedisConnection(url: url)
        let value: [UInt8] = [0, 255, 13, 10, 42]
        try connection.command([Array("SET".utf8), Array("\(prefix):bin".utf8), value])
        #expect(try connection.command("GET", "\(prefix):bin") == .bulk(value))
        #expect(try connection.command("GET", "\(prefix):absent") == .null)
        try connection.command("DEL", "\(prefix):bin")
    }

    @Test func pipelinesKeepOrderAndReportErrorsInPlace() throws {
        let connection = try RedisConnection(url: url)
        let key = Array("\(prefix):h".utf8)
        let replies = try connection.pipeline([
            [Array("HSET".utf8), key, Array("a".utf8), Array("1".utf8)],
            [Array("INCR".utf8), key],  // wrong type: an error reply, not an exception
            [Array("HGET".utf8), key, Array("a".utf8)],
            [Array("DEL".utf8), key],
        ])
        #expect(replies.count == 4)
        #expect(replies[0] == .integer(1))
        guard case .error(let message) = replies[1] else {
            Issue.record("expected an error reply, got \(replies[1])")
            return
        }
        #expect(message.hasPrefix("WRONGTYPE"))
        #expect(replies[2].string == "1")
        #expect(replies[3] == .integer(1))
    }

    @Test func selectsTheURLsDatabase() throws {
        var other = url
        other.database = 5
        let inFive = try RedisConnection(url: other)
        let inDefault = try RedisConnection(url: url)
        try inFive.command("SET", "\(prefix):db", "five")
        #expect(try inDefault.command("GET", "\(prefix):db") == .null)
        #expect(try inFive.command("GET", "\(prefix):db").string == "five")
        try inFive.command("DEL", "\(prefix):db")
    }

    @Test func authenticatesAnACLUser() throws {
        let admin = try RedisConnection(url: url)
        let user = prefix
        try admin.command("ACL", "SETUSER", user, "on", ">s3cret", "~\(prefix):*", "+@all")
        defer { _ = try? admin.command("ACL", "DELUSER", user) }
        var asUser = url
        asUser.user = user
        asUser.password = "s3cret"
        let connection = try RedisConnection(url: asUser)
        #expect(try connection.command("ACL", "WHOAMI").string == user)
        // Outside its key pattern the user is refused: an error reply from the server.
        guard case .error = try connection.command("GET", "elsewhere") else {
            Issue.record("the ACL should refuse keys outside the pattern")
            return
        }
        asUser.password = "wrong-password"
        do {
            _ = try RedisConnection(url: asUser)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .connectionFailed)
            #expect(!error.description.contains("wrong-password"))
            #expect(error.description.contains("\(user):***@"))
        }
    }

    @Test func anUnreachableServerSaysWhatToCheck() throws {
        let closed = RedisURL(host: "127.0.0.1", port: TestServers.closedPort(), password: "hunter2")
        do {
            _ = try RedisConnection(url: closed)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .connectionFailed)
            #expect(error.description.hasPrefix("cannot connect to Redis at redis://:***@127.0.0.1:"))
            #expect(error.description.contains("REDIS_URL"))
            #expect(!error.description.contains("hunter2"))
        }
    }

    @Test func aKilledConnectionReportsConnectionLost() throws {
        let victim = try RedisConnection(url: url)
        let id = try #require(victim.command("CLIENT", "ID").integer)
        let killer = try RedisConnection(url: url)
        #expect(try killer.command("CLIENT", "KILL", "ID", String(id)) == .integer(1))
        do {
            try victim.command("PING")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .connectionLost)
        }
    }
}
