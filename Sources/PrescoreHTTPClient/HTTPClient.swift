import CCurl
import Foundation

/// Blocking HTTP through libcurl: one easy handle per request, no shared state, so it is safe from
/// any thread. Callers in async code run it on a dedicated thread pool.
public enum HTTPClient {
    /// Sends `request` and returns the response; any status is a response, only transport problems
    /// (refused, timed out, bad URL) throw.
    public static func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
        globalInit
        let shownURL = redacted(request.url)
        guard let handle = curl_easy_init() else {
            throw HTTPClientError(code: .transferFailed, message: "curl_easy_init failed", url: shownURL)
        }
        defer { curl_easy_cleanup(handle) }
        let sink = ResponseSink(limit: request.maxResponseBytes)
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        configure(handle, request, sink: sink, headers: &headerList)
        let code = curl_easy_perform(handle)
        return try finish(handle, code: code, sink: sink, request: request).get()
    }

    /// Sets `request` on `handle`: URL, method, a copy of the body, headers (kept in `headers`
    /// until the transfer ends), the time limit, and `sink` for the response.
    static func configure(
        _ handle: UnsafeMutableRawPointer, _ request: HTTPRequest, sink: ResponseSink,
        headers: inout UnsafeMutablePointer<curl_slist>?
    ) {
        let milliseconds = max(
            1,
            Int(
                request.timeout.components.seconds * 1_000
                    + request.timeout.components.attoseconds / 1_000_000_000_000_000))
        for header in request.headers {
            headers = curl_slist_append(headers, "\(header.name): \(header.value)")
        }
        prescore_curl_setopt_string(handle, CURLOPT_URL, request.url)
        prescore_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        prescore_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, milliseconds)
        prescore_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
        if !request.body.isEmpty || request.method == "POST" || request.method == "PUT" {
            // Copied by libcurl; an empty body must still be set, or it would be read from stdin.
            prescore_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, request.body.count)
            var body = request.body + [0]  // never empty: a valid pointer even for an empty body
            body.withUnsafeMutableBytes {
                _ = prescore_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress)
            }
        }
        prescore_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, headers.map { UnsafeMutableRawPointer($0) })
        prescore_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
            let total = size * count
            // Past the limit, returning less than given makes libcurl stop the transfer.
            guard sink.bytes.count + total <= sink.limit else {
                sink.overflowed = true
                return 0
            }
            if let data {
                sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: data, count: total))
            }
            return total
        }
        prescore_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(sink).toOpaque())
    }

    /// The response of a finished transfer, or the transport problem that ended it.
    static func finish(
        _ handle: UnsafeMutableRawPointer, code: CURLcode, sink: ResponseSink, request: HTTPRequest
    )
        -> Result<HTTPResponse, HTTPClientError>
    {
        let shownURL = redacted(request.url)
        if sink.overflowed {
            return .failure(
                HTTPClientError(
                    code: .responseTooLarge,
                    message: "the response is over \(request.maxResponseBytes) bytes",
                    url: shownURL))
        }
        guard code == CURLE_OK else {
            let message = String(cString: curl_easy_strerror(code))
            let kind: HTTPClientError.Code =
                code == CURLE_OPERATION_TIMEDOUT
                ? .timedOut
                : code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL
                    ? .invalidRequest
                    : .transferFailed
            return .failure(HTTPClientError(code: kind, message: message, url: shownURL))
        }
        var status = 0
        prescore_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPResponse(status: status, body: sink.bytes))
    }

    /// `curl_global_init` is not thread-safe and must run once before any handle exists.
    static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// A URL as messages and logs show it: scheme, host and port only. Credentials, paths and
    /// queries are left out, since webhook URLs (Slack's, say) carry their secret in the path.
    public static func redacted(_ url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme,
            let host = components.host, !host.isEmpty
        else { return "(a URL that does not parse)" }
        return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "") + "/…"
    }
}

/// Collects the response body for the write callback. Used by one transfer on one thread only.
final class ResponseSink {
    let limit: Int
    var bytes: [UInt8] = []
    var overflowed = false

    init(limit: Int) { self.limit = limit }
}
