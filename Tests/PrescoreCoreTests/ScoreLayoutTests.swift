import Testing

@testable import PrescoreCore

@Suite struct ScoreLayoutTests {
    let layout = ScoreLayout(prefix: "prescore", job: "fraud_risk")

    @Test func keysFollowTheDocumentedLayout() {
        #expect(layout.pointerKey == "prescore:fraud_risk:current")
        #expect(layout.keptRunsKey == "prescore:fraud_risk:runs")
        #expect(layout.runKey(17) == "prescore:fraud_risk:run:17")
        #expect(layout.bucketKey(run: 17, bucket: 328) == "prescore:fraud_risk:s:17:328")
        #expect(layout.runKeyPattern == "prescore:fraud_risk:run:*")
    }

    /// The values docs/storage.md gives, computed there by an independent Python implementation.
    @Test(arguments: [("42", 328), ("user-7", 996), ("-1", 1500), ("", 929)])
    func bucketsMatchTheDocumentedFunction(key: String, bucket: Int) {
        #expect(ScoreLayout.bucket(ofKey: key.utf8, bucketCount: 1563) == bucket)
        #expect(ScoreLayout.bucket(ofKey: key.utf8, bucketCount: 1) == 0)
    }

    @Test func bucketCountAims64EntitiesABucket() {
        #expect(ScoreLayout.bucketCount(expectedRows: 0) == 1)
        #expect(ScoreLayout.bucketCount(expectedRows: 64) == 1)
        #expect(ScoreLayout.bucketCount(expectedRows: 65) == 2)
        #expect(ScoreLayout.bucketCount(expectedRows: 200_000) == 3125)
    }

    @Test func scoresAreFourLittleEndianBytes() {
        #expect(ScoreLayout.encode(1.0) == [0x00, 0x00, 0x80, 0x3F])
        for value: Float in [0, -0.5, 0.046429902, .greatestFiniteMagnitude, .leastNonzeroMagnitude] {
            #expect(ScoreLayout.decode(ScoreLayout.encode(value)) == value)
        }
        #expect(ScoreLayout.decode([1, 2, 3]) == nil)
    }

    @Test func publishedRunFieldsRoundTrip() {
        let run = PublishedRun(runID: 9, buckets: 3, modelVersion: "v1", computedAt: 1_795_450_514, rows: 300)
        #expect(PublishedRun(fields: Dictionary(uniqueKeysWithValues: run.fields)) == run)
        #expect(PublishedRun(fields: ["run": "9"]) == nil)
        #expect(
            PublishedRun(
                fields: Dictionary(uniqueKeysWithValues: run.fields).merging(["buckets": "0"]) { $1 }) == nil)
    }

    @Test(arguments: [Int64.min, -1, 0, 7, 42, 1_000_000, Int64.max])
    func decimalTextMatchesSwift(value: Int64) {
        var bytes: [UInt8] = [1]
        bytes.appendDecimal(value)
        #expect(String(decoding: bytes.dropFirst(), as: UTF8.self) == String(value))
        #expect([UInt8].decimalLength(value) == String(value).utf8.count)
    }

    @Test func expectedRowsTrustTheLastRunOverAnInflatedEstimate() {
        #expect(ScoreLayout.expectedRows(estimate: 1_000_000, lastRows: 1_000) == 8_000)
        #expect(ScoreLayout.expectedRows(estimate: 1_500, lastRows: 1_000) == 1_500)
        #expect(ScoreLayout.expectedRows(estimate: 10, lastRows: 1_000) == 1_000)  // too low: the last run
        #expect(ScoreLayout.expectedRows(estimate: 333_333, lastRows: nil) == 333_333)
        #expect(ScoreLayout.expectedRows(estimate: 333_333, lastRows: 0) == 333_333)
        #expect(ScoreLayout.expectedRows(estimate: -1, lastRows: nil) == 0)
    }
}
