import Testing

@testable import PrescoreCore

@Suite struct CronExpressionTests {
    func fields(_ text: String) throws -> [CronFieldSet] {
        guard
            case .fields(let minute, let hour, let dayOfMonth, let month, let dayOfWeek) = try CronExpression(
                text
            ).kind
        else { throw CoreError(.invalidCron, "not a fields expression") }
        return [minute, hour, dayOfMonth, month, dayOfWeek]
    }

    @Test func parsesListsRangesStepsAndNames() throws {
        let parsed = try fields("*/15 5-20/10,3 1-20/3 JAN-mar,Dec mon-FRI")
        #expect(parsed[0].values == [0, 15, 30, 45])
        #expect(parsed[1].values == [3, 5, 15])
        #expect(parsed[2].values == [1, 4, 7, 10, 13, 16, 19])
        #expect(parsed[3].values == [1, 2, 3, 12])
        #expect(parsed[4].values == [1, 2, 3, 4, 5])
        #expect(parsed[0].startsWithStar && !parsed[4].startsWithStar)
    }

    @Test func sundayIsZeroAndSeven() throws {
        #expect(try fields("0 0 * * 7")[4].values == [0])
        #expect(try fields("0 0 * * 5-7")[4].values == [0, 5, 6])
        #expect(try fields("0 0 * * *")[4].values == [0, 1, 2, 3, 4, 5, 6])
    }

    @Test func aStepFromASingleValueRunsToTheEndOfTheRange() throws {
        #expect(try fields("5/20 * * * *")[0].values == [5, 25, 45])
    }

    @Test(arguments: [
        ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"), ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"),
        ("@HOURLY", "0 * * * *"),
    ])
    func macrosExpandAsVixieCronDoes(macro: String, expansion: String) throws {
        #expect(try fields(macro) == fields(expansion))
    }

    @Test func everyIsAlignedSeconds() throws {
        #expect(try CronExpression("@every 30s").kind == .every(.seconds(30)))
        #expect(try CronExpression("@every 1h30m").kind == .every(.seconds(5_400)))
        #expect(throws: CoreError.self) { try CronExpression("@every 500ms") }
        #expect(throws: CoreError.self) { try CronExpression("@every soon") }
    }

    @Test(arguments: [
        ("60 * * * *", "minute field '60': 60 is out of range 0-59"),
        ("* 24 * * *", "hour field '24'"),
        ("* * 0 * *", "day-of-month field '0'"),
        ("* * * 13 *", "month field '13'"),
        ("* * * * 8", "day-of-week field '8'"),
        ("*/0 * * * *", "step 0"),
        ("30-10 * * * *", "reversed range '30-10'"),
        ("* * * * * *", "has 6 fields"),
        ("* * *", "has 3 fields"),
        ("* * * foo *", "month field 'foo': 'foo' is not a number or a month name"),
        ("* * * * funday", "day-of-week field 'funday'"),
        ("1,,2 * * * *", "empty list element"),
        ("@fortnightly", "unknown macro"),
    ])
    func invalidExpressionsNameTheFieldAndText(text: String, expected: String) {
        do {
            _ = try CronExpression(text)
            Issue.record("'\(text)' was accepted")
        } catch let error as CoreError {
            #expect(error.code == .invalidCron)
            #expect(error.message.contains(expected), "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
