import Testing

@testable import PrescoreCore

@Suite struct DurationParserTests {
    @Test(
        arguments: [
            ("50ms", 50), ("30s", 30_000), ("5m", 300_000), ("48h", 172_800_000), ("2d", 172_800_000),
            ("1h30m", 5_400_000), ("1.5s", 1_500), ("1d2h3m4s5ms", 93_784_005),
        ] as [(String, Int64)])
    func parsesUnitsAndCompounds(text: String, milliseconds: Int64) throws {
        #expect(try DurationParser.parse(text).totalMilliseconds == milliseconds)
    }

    @Test(arguments: ["", "50", "ms", "5 s", "3w", "30m1h", "1h1h", "-5s", "1..5s"])
    func refusesMalformedDurations(text: String) {
        #expect(throws: CoreError.self) { try DurationParser.parse(text) }
    }
}
