import PrescoreTestSupport
import Testing

@testable import PrescorePostgres

@Suite struct BinaryCopyTests {
    static let query = """
        SELECT g::bigint AS key, g * 0.5::float8 AS a, CASE WHEN g % 3 = 0 THEN NULL ELSE g::int END AS b,
               'k' || g AS t, (g % 7)::smallint AS s, g::float4 / 4 AS f
        FROM generate_series(1, 20000) AS g
        """

    struct Row: Equatable {
        var key: Int64?, a: Double?, b: Int64?, t: String?, s: Int64?, f: Double?
    }

    static func decode(_ row: BinaryCopyRow) -> Row {
        Row(
            key: row.integer(0), a: row.double(1), b: row.integer(2), t: row.text(3), s: row.integer(4),
            f: row.double(5))
    }

    /// The raw COPY bytes of `query`, as the server sent them.
    static func rawBytes(_ connection: PostgresConnection) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try connection.copyOut(query) { bytes.append(contentsOf: $0) }
        return bytes
    }

    @Test func streamsAndDecodesEveryRowAndType() throws {
        let connection = try PostgresConnection(url: TestServers.databaseURL)
        var decoder = BinaryCopyDecoder()
        var rows: [Row] = []
        try connection.copyOut(Self.query) { chunk in
            try decoder.feed(chunk) { rows.append(Self.decode($0)) }
        }
        #expect(decoder.isFinished)
        #expect(rows.count == 20_000)
        #expect(decoder.rowCount == 20_000)
        #expect(rows[0] == Row(key: 1, a: 0.5, b: 1, t: "k1", s: 1, f: 0.25))
        #expect(rows[2] == Row(key: 3, a: 1.5, b: nil, t: "k3", s: 3, f: 0.75))
        #expect(rows.last == Row(key: 20_000, a: 10_000, b: 20_000, t: "k20000", s: 1, f: 5_000))
    }

    @Test(arguments: [1, 7, 4_096])
    func anyChunkBoundaryGivesTheSameRows(chunkSize: Int) throws {
        let bytes = try Self.rawBytes(PostgresConnection(url: TestServers.databaseURL))
        var whole = BinaryCopyDecoder()
        var expected: [Row] = []
        try bytes.withUnsafeBytes { buffer in try whole.feed(buffer) { expected.append(Self.decode($0)) } }
        var chunked = BinaryCopyDecoder()
        var rows: [Row] = []
        for start in stride(from: 0, to: bytes.count, by: chunkSize) {
            try bytes[start..<min(start + chunkSize, bytes.count)].withUnsafeBytes { buffer in
                try chunked.feed(buffer) { rows.append(Self.decode($0)) }
            }
        }
        #expect(rows == expected)
        #expect(chunked.isFinished)
    }

    @Test func aMalformedStreamIsAProtocolViolation() throws {
        var decoder = BinaryCopyDecoder()
        let bytes = Array("PGCOPY\nnot really binary copy".utf8)
        do {
            try bytes.withUnsafeBytes { try decoder.feed($0) { _ in } }
            Issue.record("expected an error")
        } catch let error as PostgresError {
            #expect(error.code == .protocolViolation)
        }
    }

    struct Stop: Error {}

    @Test func aConsumerThatThrowsCancelsTheCopyAndKeepsTheConnection() throws {
        let connection = try PostgresConnection(url: TestServers.databaseURL)
        var chunks = 0
        #expect(throws: Stop.self) {
            try connection.copyOut("SELECT generate_series(1, 50000000) AS g") { _ in
                chunks += 1
                if chunks == 100 { throw Stop() }
            }
        }
        #expect(chunks == 100, "no chunk is handed out after the error")
        #expect(try connection.execute("SELECT 42").scalar == "42")
    }

    @Test func aConnectionKilledMidCopyIsConnectionLost() throws {
        try TestServers.withTemporaryDatabase { url in
            let victim = try PostgresConnection(url: url)
            let pid = try #require(victim.execute("SELECT pg_backend_pid()").scalar)
            let killer = try PostgresConnection(url: url)
            var chunks = 0
            do {
                try victim.copyOut("SELECT generate_series(1, 50000000) AS g") { _ in
                    chunks += 1
                    if chunks == 10 { try killer.execute("SELECT pg_terminate_backend($1::int)", [pid]) }
                }
                Issue.record("expected an error")
            } catch let error as PostgresError {
                #expect(error.code == .connectionLost || error.code == .queryFailed)
                #expect(!victim.isHealthy)
            }
        }
    }

    @Test func aBadQueryFailsWithItsSQLState() throws {
        let connection = try PostgresConnection(url: TestServers.databaseURL)
        do {
            try connection.copyOut("SELECT * FROM no_such_table") { _ in }
            Issue.record("expected an error")
        } catch let error as PostgresError {
            #expect(error.code == .queryFailed)
            #expect(error.sqlState == "42P01")
        }
        #expect(try connection.execute("SELECT 1").scalar == "1")
    }
}
