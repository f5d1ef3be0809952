import Testing

@testable import PrescoreRedis

@Suite struct RedisURLTests {
    @Test func parsesEveryPart() throws {
        let url = try RedisURL("redis://app:s%40cret@cache.internal:6380/3")
        #expect(
            url == RedisURL(host: "cache.internal", port: 6380, user: "app", password: "s@cret", database: 3))
        #expect(url.description == "redis://app:***@cache.internal:6380/3")
    }

    @Test func appliesDefaultsAndTheDefaultUser() throws {
        #expect(try RedisURL("redis://localhost") == RedisURL(host: "localhost"))
        let passwordOnly = try RedisURL("redis://:pw@h:1")
        #expect(passwordOnly.user == nil && passwordOnly.password == "pw")
        #expect(passwordOnly.description == "redis://:***@h:1/0")
    }

    @Test(arguments: [
        "http://h:1", "redis://", "redis://h:1/x", "redis://user@h:1", "not a url", "redis://h:99999",
    ])
    func refusesInvalidURLs(text: String) {
        #expect(throws: RedisError.self) { try RedisURL(text) }
    }

    @Test func neverShowsThePasswordOfAnInvalidURL() {
        do {
            _ = try RedisURL("redis://u:hunter2@h:1/notanumber")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidURL)
            #expect(!error.description.contains("hunter2"))
        }
    }
}
