import Foundation
import PrescoreCore
import PrescoreTestSupport
import PropertyBased
import Testing

@testable import PrescoreRedis

/// The listpack elements and `RESTORE` payloads the batch writer builds, checked against Redis
/// itself: a payload must equal, byte for byte, what Redis' own `DUMP` gives for the same hash
/// built by `HSET`, and Redis checking payloads in depth must take it.
@Suite struct ListpackHashDumpTests {
    @Test func theChecksumIsRedisCRC64() {
        let check = Array("123456789".utf8).withUnsafeBytes { RedisCRC64.checksum($0) }
        #expect(check == 0xe9c6_d914_c4b8_d9ca)
        // Slicing by 8 and the byte-at-a-time tail agree wherever the split falls.
        let bytes = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        let whole = bytes.withUnsafeBytes { RedisCRC64.checksum($0) }
        for split in 0...bytes.count {
            let crc = bytes.withUnsafeBytes { all in
                RedisCRC64.checksum(
                    UnsafeRawBufferPointer(rebasing: all[split...]),
                    continuing: RedisCRC64.checksum(UnsafeRawBufferPointer(rebasing: all[..<split])))
            }
            #expect(crc == whole)
        }
    }

    /// Redis' `lpStringToInt64`: only canonical decimal within 64 bits is an integer.
    @Test(
        arguments: [
            ("0", 0), ("-1", -1), ("127", 127), ("9223372036854775807", Int64.max),
            ("-9223372036854775808", Int64.min), ("9223372036854775808", nil), ("-9223372036854775809", nil),
            ("-0", nil), ("007", nil), ("+5", nil), ("", nil), ("-", nil), ("1e3", nil), (" 7", nil),
            ("12a", nil), ("00", nil),
        ] as [(String, Int64?)])
    func integersAreReadAsRedisReadsThem(text: String, expected: Int64?) {
        #expect(Array(text.utf8).withUnsafeBytes { Listpack.integer($0) } == expected)
    }

    @Test func elementsReadBackAsWritten() async {
        await propertyCheck(count: 200, input: Gen.uint64()) { seed in
            var random = SplitMix64(seed: seed)
            let texts = (0..<50).map { _ in Self.text(&random, maximumLength: 5_000) }
            var listpack: [UInt8] = []
            for text in texts { text.withUnsafeBytes { Listpack.appendElement($0, to: &listpack) } }
            listpack.withUnsafeBytes { bytes in
                var offset = 0
                for text in texts {
                    let (element, next) = Listpack.element(in: bytes, at: offset)
                    #expect(Self.text(of: element, in: bytes) == text)
                    offset = next
                }
                #expect(offset == bytes.count)
            }
        }
    }

    /// Hashes small enough for Redis to keep as a listpack (at most 128 fields of at most 64
    /// bytes): our payload equals Redis' `DUMP` of the same `HSET` (compression off, so `DUMP`
    /// writes the listpack as it is), and `RESTORE` with deep checks on gives the same hash back.
    @Test func payloadsAreWhatRedisDumps() throws {
        let server = try RedisServerProcess(arguments: [
            "--rdbcompression", "no", "--sanitize-dump-payload", "yes",
        ])
        defer { server.stop() }
        let redis = try RedisConnection(url: RedisURL(server.url))
        var random = SplitMix64(seed: 2026)
        for trial in 0..<300 {
            let (fields, values) = Self.hash(&random, fields: 1...120, maximumLength: 64)
            try redis.command(
                [Array("HSET".utf8), Array("h\(trial)".utf8)] + zip(fields, values).flatMap { [$0, $1] })
            guard case .bulk(let dumped) = try redis.command("DUMP", "h\(trial)") else {
                Issue.record("no DUMP")
                return
            }
            let ours = Self.payload(fields, values)
            #expect(ours.dropLast(8) == dumped.dropLast(8), "trial \(trial): the payload differs from DUMP's")
            try Self.expectRestored(redis, key: "r\(trial)", ours, fields, values)
        }
    }

    /// Long fields and values, and more fields than a listpack hash holds: Redis (checking in
    /// depth) takes the payload and converts it as it would its own.
    @Test func largeHashesAreTakenToo() throws {
        let server = try RedisServerProcess(arguments: ["--sanitize-dump-payload", "yes"])
        defer { server.stop() }
        let redis = try RedisConnection(url: RedisURL(server.url))
        var random = SplitMix64(seed: 7)
        for trial in 0..<20 {
            let (fields, values) = Self.hash(&random, fields: 100...700, maximumLength: 5_000)
            try Self.expectRestored(redis, key: "big\(trial)", Self.payload(fields, values), fields, values)
        }
    }

    static func payload(_ fields: [[UInt8]], _ values: [[UInt8]]) -> [UInt8] {
        ListpackHashDump.payload(zip(fields, values).map { ($0, $1) })
    }

    static func expectRestored(
        _ redis: RedisConnection, key: String, _ payload: [UInt8], _ fields: [[UInt8]], _ values: [[UInt8]]
    ) throws {
        let reply = try redis.command([Array("RESTORE".utf8), Array(key.utf8), Array("0".utf8), payload])
        #expect(reply == .status("OK"), "\(key): \(reply)")
        guard case .array(let items) = try redis.command("HGETALL", key) else {
            Issue.record("\(key): no hash")
            return
        }
        var restored: [[UInt8]: RedisReply] = [:]
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            if case .bulk(let field) = items[index] { restored[field] = items[index + 1] }
        }
        #expect(restored == Dictionary(uniqueKeysWithValues: zip(fields, values.map { RedisReply.bulk($0) })))
    }

    /// Random element text: canonical integers of every width, integer look-alikes, raw bytes,
    /// float scores.
    static func text(_ random: inout SplitMix64, maximumLength: Int) -> [UInt8] {
        let edges: [Int64] = [
            0, 127, 128, -1, -4096, 4095, -4097, 4096, -32768, 32767, -32769, 32768, -8_388_608, 8_388_607,
            -8_388_609, 8_388_608, Int64(Int32.min), Int64(Int32.max), Int64(Int32.min) - 1,
            Int64(Int32.max) + 1,
            .min, .max,
        ]
        switch Int.random(in: 0..<6, using: &random) {
        case 0: return Array(String(edges.randomElement(using: &random)!).utf8)
        case 1:
            return Array(
                String(
                    Int64.random(in: .min ... .max, using: &random) >> Int.random(in: 0..<64, using: &random)
                ).utf8)
        case 2:
            return Array(
                ["-0", "007", "+1", "", "-", "1 ", "9223372036854775808"].randomElement(using: &random)!.utf8)
        case 3: return ScoreLayout.encode(Float.random(in: -1...1, using: &random))
        default:
            let lengths = [0, 1, 63, 64, 65, 127, 128, 4095, 4096, 4097].filter { $0 <= maximumLength }
            let length =
                Bool.random(using: &random)
                ? lengths.randomElement(using: &random)!
                : Int.random(in: 0...min(maximumLength, 80), using: &random)
            return (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
        }
    }

    /// A random hash: distinct fields, as many as `fields` says, and a value each.
    static func hash(
        _ random: inout SplitMix64, fields count: ClosedRange<Int>, maximumLength: Int
    ) -> (fields: [[UInt8]], values: [[UInt8]]) {
        let count = Int.random(in: count, using: &random)
        var seen = Set<[UInt8]>()
        var fields: [[UInt8]] = []
        while fields.count < count {
            let field = text(&random, maximumLength: maximumLength)
            if seen.insert(field).inserted { fields.append(field) }
        }
        return (fields, fields.map { _ in text(&random, maximumLength: maximumLength) })
    }

    static func text(of element: Listpack.Element, in bytes: UnsafeRawBufferPointer) -> [UInt8] {
        switch element {
        case .integer(let value): Array(String(value).utf8)
        case .string(let range): Array(bytes[range])
        }
    }
}
