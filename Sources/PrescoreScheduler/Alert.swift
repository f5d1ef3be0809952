import Foundation
import PrescoreCore
import PrescoreHTTPClient

/// The JSON a job's `alerts.webhook_url` receives when a run fails for good:
/// `{"job","run_id","scheduled_for","status","attempts","error"}` (a contract: receivers parse it).
/// `scheduled_for` is RFC 3339 in UTC, or null for a manual run.
public struct Alert: Sendable, Equatable, Encodable {
    public var job: String
    public var runID: Int64
    public var scheduledFor: Date?
    public var status: RunStatus
    public var attempts: Int
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case job
        case runID = "run_id"
        case scheduledFor = "scheduled_for"
        case status, attempts, error
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(job, forKey: .job)
        try container.encode(runID, forKey: .runID)
        // Present as null rather than left out, so receivers see one shape.
        try container.encode(scheduledFor.map { FireTimeFormat.string($0, in: .gmt) }, forKey: .scheduledFor)
        try container.encode(status.rawValue, forKey: .status)
        try container.encode(attempts, forKey: .attempts)
        try container.encode(error, forKey: .error)
    }

    public var json: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data())
    }

    /// A receiver's answer is not read: only its status counts, and a few KiB are allowed.
    static let maxResponseBytes = 16 * 1024

    /// Posts the alert; returns what went wrong, or nil on a 2xx answer. Blocking: call it on a
    /// thread of its own.
    func send(to url: String, timeout: Duration) -> String? {
        let request = HTTPRequest(
            method: "POST", url: url, headers: [("Content-Type", "application/json")], body: json,
            timeout: timeout, maxResponseBytes: Self.maxResponseBytes)
        do {
            let response = try HTTPClient.send(request)
            return (200..<300).contains(response.status) ? nil : "HTTP \(response.status) from the webhook"
        } catch {
            return "\(error)"
        }
    }
}
