import CCurl
import Synchronization

/// Many requests at once through libcurl's multi interface, at most `concurrency` in flight, all
/// driven by the calling thread (blocking: call it from a thread of its own or an executor's).
/// Open connections live in a multi handle's connection cache, so multi handles (and easy
/// handles) stay in a pool between calls: a batch run's thousands of requests to one model server
/// reuse a few connections. Concurrent callers each take a multi handle of their own.
public final class HTTPTransfers: Sendable {
    /// One libcurl easy handle. The pointer never leaves this type and its owner.
    final class EasyHandle: @unchecked Sendable {
        // @unchecked Sendable: a handle belongs to one `MultiHandle` and is used only by the thread
        // that holds that multi handle (see `MultiHandle`).
        let pointer: UnsafeMutableRawPointer

        init?() {
            HTTPClient.globalInit
            guard let pointer = curl_easy_init() else { return nil }
            self.pointer = pointer
        }

        deinit { curl_easy_cleanup(pointer) }
    }

    /// One libcurl multi handle, holding the open connections, and its idle easy handles.
    final class MultiHandle: @unchecked Sendable {
        // @unchecked Sendable: used by one thread at a time, the one that took it out of the pool
        // (under the pool's mutex) until it puts it back.
        let pointer: UnsafeMutableRawPointer
        var idle: [EasyHandle] = []

        init?() {
            HTTPClient.globalInit
            guard let pointer = curl_multi_init() else { return nil }
            self.pointer = pointer
        }

        deinit {
            idle.removeAll()  // easy handles first, as libcurl asks
            curl_multi_cleanup(pointer)
        }
    }

    private let pool = Mutex<[MultiHandle]>([])

    public init() {}

    /// The result of each request, in order.
    public func send(_ requests: [HTTPRequest], concurrency: Int) -> [Result<HTTPResponse, HTTPClientError>] {
        var results = [Result<HTTPResponse, HTTPClientError>?](repeating: nil, count: requests.count)
        guard let owner = pool.withLock({ $0.popLast() }) ?? MultiHandle() else {
            return requests.map {
                .failure(
                    HTTPClientError(
                        code: .transferFailed, message: "curl_multi_init failed",
                        url: HTTPClient.redacted($0.url)))
            }
        }
        defer { pool.withLock { $0.append(owner) } }
        let multi = owner.pointer
        struct Active {
            let index: Int
            let handle: EasyHandle
            let sink: ResponseSink
            var headers: UnsafeMutablePointer<curl_slist>?
        }
        var active: [UnsafeMutableRawPointer: Active] = [:]
        var next = 0
        func start() {
            while active.count < max(1, concurrency), next < requests.count {
                let index = next
                next += 1
                guard let handle = owner.idle.popLast() ?? EasyHandle() else {
                    results[index] = .failure(
                        HTTPClientError(
                            code: .transferFailed, message: "curl_easy_init failed",
                            url: HTTPClient.redacted(requests[index].url)))
                    continue
                }
                curl_easy_reset(handle.pointer)  // options go; the multi handle keeps the connections
                var entry = Active(
                    index: index, handle: handle, sink: ResponseSink(limit: requests[index].maxResponseBytes))
                HTTPClient.configure(
                    handle.pointer, requests[index], sink: entry.sink, headers: &entry.headers)
                curl_multi_add_handle(multi, handle.pointer)
                active[handle.pointer] = entry
            }
        }
        start()
        while !active.isEmpty {
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var left: Int32 = 0
            while let message = curl_multi_info_read(multi, &left) {
                guard message.pointee.msg == CURLMSG_DONE, let pointer = message.pointee.easy_handle,
                    let entry = active.removeValue(forKey: pointer)
                else { continue }
                let code = message.pointee.data.result
                results[entry.index] = HTTPClient.finish(
                    pointer, code: code, sink: entry.sink, request: requests[entry.index])
                curl_multi_remove_handle(multi, pointer)
                curl_slist_free_all(entry.headers)
                if code == CURLE_OK { owner.idle.append(entry.handle) }  // a failed one is dropped
                start()
            }
            if !active.isEmpty { curl_multi_poll(multi, nil, 0, 100, nil) }
        }
        return results.map { $0! }
    }
}
