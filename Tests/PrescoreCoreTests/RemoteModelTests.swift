import Foundation
import Testing

@testable import PrescoreCore

@Suite struct RemoteModelParsingTests {
    func parse(_ model: String) -> JobFileParser.Outcome {
        JobFileParser.parse(
            """
            name: r
            schedule: "@daily"
            model: \(model)
            source: {query: "SELECT 1 AS key, 2 AS a, 3 AS b"}
            """, file: "jobs/r.yaml", directory: "/srv/jobs")
    }

    @Test func readsTheContractKeysWithDefaults() throws {
        let job = try #require(
            parse(
                """
                {kind: remote, url: "http://models:8080/", name: fraud, version: "3", features: [a, b],
                         input: {name: x, datatype: FP64}, output: {name: p}, batch_size: 128, concurrency: 2,
                         timeout: 200ms, retries: 3, headers: {Authorization: "Bearer ${TOKEN}", X-Team: risk}}
                """
            ).job)
        guard case .remote(let model) = job.model else { throw CancellationError() }
        #expect(model.inferURL == "http://models:8080/v2/models/fraud/versions/3/infer")
        #expect(model.features == ["a", "b"] && model.inputName == "x" && model.datatype == .fp64)
        #expect(
            model.outputName == "p" && model.batchSize == 128 && model.concurrency == 2 && model.retries == 3)
        #expect(model.timeout == .milliseconds(200))
        #expect(job.model.version == "fraud@3")
        let headers = try model.resolvedHeaders(environment: ["TOKEN": "s3cret"])
        #expect(headers.map(\.value) == ["Bearer s3cret", "risk"])
        #expect(throws: CoreError.self) { try model.resolvedHeaders(environment: [:]) }

        let plain = try #require(parse("{kind: remote, url: \"https://m\", name: n, features: [a]}").job)
        guard case .remote(let defaults) = plain.model else { throw CancellationError() }
        #expect(defaults.inferURL == "https://m/v2/models/n/infer")
        #expect(defaults.batchSize == 256 && defaults.concurrency == 4 && defaults.inputName == "input-0")
    }

    @Test func badRemoteKeysNameTheirField() {
        let cases: [(String, String)] = [
            ("{kind: remote, url: \"ftp://m\", name: n, features: [a]}", "http:// or https://"),
            ("{kind: remote, url: \"http://m\", features: [a]}", "'model.name' is required"),
            ("{kind: remote, url: \"http://m\", name: n, features: []}", "each input column once"),
            ("{kind: remote, url: \"http://m\", name: n, features: a}", "a list of names"),
            (
                "{kind: remote, url: \"http://m\", name: n, features: [a], input: {datatype: INT8}}",
                "FP32 or FP64"
            ),
            ("{kind: remote, url: \"http://m\", name: n, features: [a], concurrency: 0}", "1 to 256"),
            (
                "{kind: remote, url: \"http://m\", name: n, features: [a], headers: {Authorization: Bearer abc}}",
                "environment variable"
            ),
            ("{kind: remote, url: \"http://m\", name: n, features: [a], path: x.json}", "does not apply"),
            ("{kind: xgboost-json, path: m.json, version: v, url: \"http://m\"}", "does not apply"),
        ]
        for (model, message) in cases {
            let outcome = parse(model)
            #expect(outcome.job == nil, "\(model)")
            #expect(
                outcome.problems.contains { $0.description.contains(message) },
                "\(model): \(outcome.problems)")
        }
    }
}

@Suite struct OpenInferenceCodecTests {
    static let model: RemoteModel = {
        var model = RemoteModel(url: "http://m", name: "n", features: ["a", "b"])
        model.outputName = "predict"
        return model
    }()

    @Test func writesOneTensorWithNullForMissingValues() throws {
        let rows: [Float] = [1.5, .nan, -2, 0]
        let body = rows.withUnsafeBufferPointer { OpenInferenceCodec.request($0, rows: 2, model: Self.model) }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let input = try #require((object["inputs"] as? [[String: Any]])?.first)
        #expect(input["name"] as? String == "input-0" && input["datatype"] as? String == "FP32")
        #expect(input["shape"] as? [Int] == [2, 2])
        let data = try #require(input["data"] as? [Any])
        #expect(data.count == 4 && data[1] is NSNull && (data[2] as? Double) == -2)
        #expect((object["outputs"] as? [[String: Any]])?.first?["name"] as? String == "predict")
    }

    @Test func readsScoresAndNamesWhatIsWrong() throws {
        func answer(_ outputs: String) -> [UInt8] {
            Array("{\"model_name\":\"n\",\"outputs\":[\(outputs)]}".utf8)
        }
        let good = answer(
            #"{"name":"other","shape":[2],"datatype":"FP32","data":[9,9]},{"name":"predict","shape":[2,1],"datatype":"FP64","data":[0.25,0.5]}"#
        )
        #expect(try OpenInferenceCodec.scores(good, rows: 2, model: Self.model) == [0.25, 0.5])
        let cases: [([UInt8], String)] = [
            (Array("not json".utf8), "not an inference response"),
            (answer(#"{"name":"other","shape":[2],"data":[1,2]}"#), "no output predict (outputs: other)"),
            (answer(#"{"name":"predict","shape":[3],"data":[1,2,3]}"#), "shape [2] or [2, 1], got [3]"),
            (answer(#"{"name":"predict","shape":[2],"data":[1]}"#), "expected 2 values"),
            (answer(#"{"name":"predict","shape":[2],"data":[1,"x"]}"#), "output value 1 is not a number"),
        ]
        for (body, message) in cases {
            #expect(throws: CoreError.self) {
                try OpenInferenceCodec.scores(body, rows: 2, model: Self.model)
            }
            do {
                _ = try OpenInferenceCodec.scores(body, rows: 2, model: Self.model)
            } catch {
                #expect(error.message.contains(message), "\(error.message)")
            }
        }
    }
}
