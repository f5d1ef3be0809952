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
        let sink = ResponseSink()
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
                if let data {
                    sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: data, count: total))
                }
                return total
            }
            prescore_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(sink).toOpaque())
            return curl_easy_perform(handle)
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

    /// Hides `user:password@` in a URL for messages.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? "(a URL with credentials)"
    }
}

/// Collects the response body for the write callback. Used by one transfer on one thread only.
private final class ResponseSink {
    var bytes: [UInt8] = []
}
