import Foundation
import HTTPTypes
import NIOCore
import PrescoreCore
import PrescoreRedis

extension ScoreService {
    /// A `GET /v1/scores/{job}/{key}` the event loop may answer by itself: a served job outside
    /// any experiment (exposures are recorded on the full path), a valid key, and the job's
    /// published run cached and fresh. Everything else takes the full path, which also answers
    /// the errors and refreshes the pointer.
    struct HitPlan {
        let served: ServedJob
        let key: String
        let run: PublishedRun
        let bucketKey: String
    }

    func hitPlan(_ head: HTTPRequest) -> HitPlan? {
        guard head.method == .get, let path = head.path, !path.utf8.contains(UInt8(ascii: "?")),
            Self.keepsAlive(head.headerFields), let (job, rawKey) = ScorePath.parse(path),
            let served = jobs[job], served.experiment == nil,
            let key = ScoreKey.percentDecoded(Substring(rawKey)), ScoreKey.problem(key) == nil,
            let run = pointers.fresh(served.layout.pointerKey)
        else { return nil }
        return HitPlan(
            served: served, key: key, run: run, bucketKey: served.layout.bucketKey(ofKey: key, in: run))
    }

    /// `HGET` of the plan's key in its bucket.
    func lookUp(_ plan: HitPlan) -> EventLoopFuture<[RedisReply]> {
        redis.send(replies: 1) { buffer in
            NIORedisClient.encode(["HGET", plan.bucketKey, plan.key], into: &buffer)
        }
    }

    /// The answer's JSON when `reply` holds the score, counted as a hit; nil otherwise (an absent
    /// key is then a miss, `ScoreHitHandler` asks `miss`; anything else goes to the full path).
    func hitJSON(_ plan: HitPlan, reply: RedisReply) -> String? {
        hit(plan.served, key: plan.key, run: plan.run, reply: reply)?.json
    }

    /// Whether the connection stays open after the answer: no `Connection` header, or
    /// `keep-alive`. A `close` is left to Hummingbird, which closes after answering.
    private static func keepsAlive(_ fields: HTTPFields) -> Bool {
        guard let value = fields[.connection] else { return true }
        return value.lowercased() == "keep-alive"
    }
}
