import PrescoreTestSupport
import Testing

@testable import PrescoreHTTPClient

@Suite struct HTTPClientTests {
    @Test func postsABodyWithHeadersAndReadsTheResponse() throws {
        let server = LoopbackHTTPServer(status: 202, body: "{\"ok\":true}")
        defer { server.stop() }
        let response = try HTTPClient.send(
            HTTPRequest(
                method: "POST", url: "http://127.0.0.1:\(server.port)/hook",
                headers: [("Content-Type", "application/json")], body: Array("{\"job\":\"a\"}".utf8)))
        #expect(response.status == 202)
        #expect(String(decoding: response.body, as: UTF8.self) == "{\"ok\":true}")
        let request = try #require(server.receivedRequests.first)
        #expect(request.hasPrefix("POST /hook HTTP/1.1"))
        #expect(request.contains("Content-Type: application/json"))
        #expect(request.hasSuffix("{\"job\":\"a\"}"))
    }

    @Test func anEmptyPostSendsAnEmptyBody() throws {
        let server = LoopbackHTTPServer(status: 204)
        defer { server.stop() }
        let response = try HTTPClient.send(
            HTTPRequest(method: "POST", url: "http://127.0.0.1:\(server.port)/"))
        #expect(response.status == 204)
        #expect(server.receivedRequests.first?.contains("Content-Length: 0") == true)
    }

    @Test func anErrorStatusIsAResponseNotAnError() throws {
        let server = LoopbackHTTPServer(status: 503)
        defer { server.stop() }
        #expect(try HTTPClient.send(HTTPRequest(url: "http://127.0.0.1:\(server.port)/")).status == 503)
    }

    @Test func aSilentServerTimesOut() {
        let server = LoopbackHTTPServer(silent: true)
        defer { server.stop() }
        do {
            _ = try HTTPClient.send(
                HTTPRequest(url: "http://127.0.0.1:\(server.port)/", timeout: .milliseconds(200)))
            Issue.record("expected a timeout")
        } catch {
            #expect(error.code == .timedOut)
        }
    }

    @Test func refusedConnectionsAndBadURLsThrowWithCredentialsHidden() {
        do {
            _ = try HTTPClient.send(
                HTTPRequest(url: "http://u:hunter2@127.0.0.1:\(TestServers.closedPort())/"))
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .transferFailed)
            #expect(!error.description.contains("hunter2"))
        }
        #expect(throws: HTTPClientError.self) { try HTTPClient.send(HTTPRequest(url: "nope://x")) }
    }

    @Test func aResponseOverTheLimitStopsTheTransfer() {
        let server = LoopbackHTTPServer(status: 200, body: String(repeating: "x", count: 100_000))
        defer { server.stop() }
        do {
            _ = try HTTPClient.send(
                HTTPRequest(url: "http://127.0.0.1:\(server.port)/", maxResponseBytes: 1_000))
            Issue.record("expected responseTooLarge")
        } catch {
            #expect(error.code == .responseTooLarge)
        }
    }

    /// Webhook URLs carry their secret in the path (Slack's do): messages show scheme and host.
    @Test(arguments: [
        ("https://hooks.slack.com/services/T000/B000/XXXXsecret", "https://hooks.slack.com/…"),
        ("http://u:hunter2@127.0.0.1:8080/hook?token=secret", "http://127.0.0.1:8080/…"),
        ("not a url at all secret", "(a URL that does not parse)"),
    ])
    func urlsAreShownAsSchemeAndHostOnly(url: String, shown: String) {
        #expect(HTTPClient.redacted(url) == shown)
    }
}
