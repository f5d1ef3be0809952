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
        let milliseconds = max(
            1,
            Int(
                request.timeout.components.seconds * 1_000
                    + request.timeout.components.attoseconds / 1_000_000_000_000_000))
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for header in request.headers {
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        let code: CURLcode = request.body.withUnsafeBufferPointer { body in
            prescore_curl_setopt_string(handle, CURLOPT_URL, request.url)
            prescore_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
            prescore_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, milliseconds)
            prescore_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
            if let base = body.baseAddress {
                prescore_curl_setopt_pointer(
                    handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: base))
                prescore_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count)
            } else if request.method == "POST" || request.method == "PUT" {
                // An empty body must still be set: with none, libcurl would read it from stdin.
                prescore_curl_setopt_string(handle, CURLOPT_POSTFIELDS, "")
            }
            prescore_curl_setopt_pointer(
                handle, CURLOPT_HTTPHEADER, headerList.map { UnsafeMutableRawPointer($0) })
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
            return curl_easy_perform(handle)
        }
        if sink.overflowed {
            throw HTTPClientError(
                code: .responseTooLarge, message: "the response is over \(request.maxResponseBytes) bytes",
                url: shownURL)
        }
        guard code == CURLE_OK else {
            let message = String(cString: curl_easy_strerror(code))
            let kind: HTTPClientError.Code =
                code == CURLE_OPERATION_TIMEDOUT
                ? .timedOut
                : code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL
                    ? .invalidRequest
                    : .transferFailed
            throw HTTPClientError(code: kind, message: message, url: shownURL)
        }
        var status = 0
        prescore_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, body: withExtendedLifetime(sink) { sink.bytes })
    }

    /// `curl_global_init` is not thread-safe and must run once before any handle exists.
    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

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
private final class ResponseSink {
    let limit: Int
    var bytes: [UInt8] = []
    var overflowed = false

    init(limit: Int) { self.limit = limit }
}
