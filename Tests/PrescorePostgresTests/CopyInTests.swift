import PrescoreCore
import PrescoreTestSupport
import Testing

@testable import PrescorePostgres

/// `COPY … FROM STDIN` in text format, as exposures and outcomes are written.
@Suite struct CopyInTests {
    @Test func anyTextArrivesAsItWas() throws {
        let connection = try PostgresConnection(url: TestServers.databaseURL)
        try connection.execute("CREATE TEMP TABLE copied (t text, d float8, n int)")
        let values = ["plain", "tab\there", "line\nbreak", "back\\slash \\N", "cr\rhere", "é ✓ 😀", ""]
        var text = CopyText()
        for (index, value) in values.enumerated() {
            text.append(value)
            text.append(Double(index) / 3)
            text.append(nil)
            text.endRow()
        }
        #expect(try connection.copyIn("copied (t, d, n)", text.bytes) == values.count)
        let rows = try connection.execute("SELECT t, d, n FROM copied ORDER BY d").rows
        #expect(rows.map { $0[0] } == values)
        #expect(rows.map { Double($0[1]!)! } == values.indices.map { Double($0) / 3 })
        #expect(rows.allSatisfy { $0[2] == nil })
    }

    @Test func aRefusedRowWritesNothingAndLeavesTheConnectionUsable() throws {
        let connection = try PostgresConnection(url: TestServers.databaseURL)
        try connection.execute("CREATE TEMP TABLE copied (n int NOT NULL)")
        var text = CopyText()
        for value in ["1", "2", "x"] {
            text.append(value)
            text.endRow()
        }
        #expect(throws: PostgresError.self) { try connection.copyIn("copied (n)", text.bytes) }
        do {
            try connection.copyIn("copied (n)", text.bytes)
        } catch {
            #expect(error.isDataError, "\(error)")
        }
        #expect(try connection.execute("SELECT count(*) FROM copied").scalar == "0")
    }

    @Test func timestampsAreExactInUTC() throws {
        let connection = try PostgresConnection(url: TestServers.databaseURL)
        try connection.execute("SET TIME ZONE 'America/Sao_Paulo'")
        for seconds in [0, 1_764_000_000.123456, -86_400.5, 951_782_400.000001, 4_102_444_799.999999] {
            let text = ExperimentTables.timestamp(seconds)
            let back = try connection.execute("SELECT extract(epoch FROM $1::timestamptz)", [text]).scalar
            #expect(abs(Double(back!)! - seconds) < 1e-6, "\(seconds) → \(text) → \(back ?? "")")
        }
    }
}
