import Foundation
import PrescoreCore
import PrescoreHTTPClient
import Synchronization

/// Scores through an Open Inference Protocol server (`model: {kind: remote}`): the rows are cut
/// into requests of `batch_size`, `concurrency` of them in flight over reused connections
/// (`HTTPTransfers`); a request answered 429 or 5xx, or not answered, is retried up to `retries`
/// times after a backoff with jitter (100 ms doubling, each wait drawn between half and all of
/// it). Rows of a request that still fails, or whose answer has the wrong shape, score NaN: the
/// batch run counts them as failed rows against the job's error budget, and the realtime fallback
/// as a failed call (its breaker sees it). `lastFailure` says why rows were last left NaN (a
/// request that succeeds on a retry leaves none).
final class RemoteScorer: Scorer {
    let model: RemoteModel
    let headers: [(name: String, value: String)]
    private let transfers = HTTPTransfers()
    private let failure = Mutex<String?>(nil)

    init(model: RemoteModel, environment: [String: String]) throws(CoreError) {
        self.model = model
        headers =
            [("Content-Type", "application/json")]
            + (try model.resolvedHeaders(environment: environment)).map { ($0.name, $0.value) }
    }

    var featureNames: [String]? { model.features }
    var featureCount: Int { model.features.count }
    var version: String? { model.recordedVersion }
    var lastFailure: String? { failure.withLock { $0 } }
    var computesLocally: Bool { false }

    @discardableResult
    func score(_ features: UnsafeBufferPointer<Float>, into scores: UnsafeMutableBufferPointer<Float>) -> Int
    {
        let rows = scores.count
        let columns = featureCount
        var pending = Array(stride(from: 0, to: rows, by: model.batchSize))
        // Why each request whose rows are NaN now failed; a retry that succeeds takes it out.
        var failed: [Int: String] = [:]
        for attempt in 0...model.retries where !pending.isEmpty {
            if attempt > 0 { backOff(attempt) }
            let requests = pending.map { start in
                HTTPRequest(
                    method: "POST", url: model.inferURL, headers: headers,
                    body: OpenInferenceCodec.request(
                        UnsafeBufferPointer(
                            rebasing: features[(start * columns)..<(end(start, rows) * columns)]),
                        rows: end(start, rows) - start, model: model),
                    timeout: model.timeout, maxResponseBytes: 64 << 20)
            }
            var retry: [Int] = []
            for (start, result) in zip(pending, transfers.send(requests, concurrency: model.concurrency)) {
                let count = end(start, rows) - start
                switch result {
                case .success(let response) where (200..<300).contains(response.status):
                    do {
                        let values = try OpenInferenceCodec.scores(response.body, rows: count, model: model)
                        for (offset, value) in values.enumerated() { scores[start + offset] = value }
                        failed[start] = nil
                    } catch {
                        failed[start] = "\(model.name): \(error.message)"
                    }
                case .success(let response):
                    failed[start] =
                        "\(model.name) answered HTTP \(response.status): \(Self.message(response.body))"
                    if response.status == 429 || response.status >= 500 { retry.append(start) }
                case .failure(let error):
                    failed[start] = "\(model.name): \(error)"
                    retry.append(start)
                }
            }
            pending = retry
        }
        for start in failed.keys {
            for index in start..<end(start, rows) { scores[index] = .nan }
        }
        if let reason = failed.max(by: { $0.key < $1.key })?.value { failure.withLock { $0 = reason } }
        return features.reduce(0) { $0 + ($1.isNaN ? 1 : 0) }
    }

    private func end(_ start: Int, _ rows: Int) -> Int { min(rows, start + model.batchSize) }

    private func backOff(_ attempt: Int) {
        let ceiling = 0.1 * Double(1 << min(attempt - 1, 6))
        usleep(UInt32(Double.random(in: ceiling / 2...ceiling) * 1_000_000))
    }

    /// The server's message: its `error` field when the body is JSON, else the text's start.
    static func message(_ body: [UInt8]) -> String {
        if let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let error = object["error"] ?? object["detail"]
        {
            return OpenInferenceCodec.excerpt(Array("\(error)".utf8), limit: 300)
        }
        return OpenInferenceCodec.excerpt(body, limit: 300)
    }
}
