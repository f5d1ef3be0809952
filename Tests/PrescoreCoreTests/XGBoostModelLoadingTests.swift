import Foundation
import Testing

@testable import PrescoreCore

/// What the loader refuses, and that it says why.
@Suite struct XGBoostModelLoadingTests {
    /// The small 3.2 model as a mutable JSON object, to break in one place per test.
    static func modelJSON() throws -> [String: Any] {
        let url = FixtureFiles.fixture("xgboost-versions/xgb32_binary_logistic.json")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    static func load(_ json: [String: Any]) throws -> XGBoostModel {
        try XGBoostModel(json: JSONSerialization.data(withJSONObject: json), source: "model.json")
    }

    static func error(_ body: () throws -> XGBoostModel) -> CoreError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error as? CoreError
        }
    }

    static func editLearner(_ json: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
        var learner = json["learner"] as! [String: Any]
        edit(&learner)
        json["learner"] = learner
    }

    @Test func refusesOtherObjectives() throws {
        var json = try Self.modelJSON()
        Self.editLearner(&json) { $0["objective"] = ["name": "multi:softprob"] }
        let error = try #require(Self.error { try Self.load(json) })
        #expect(error.code == .unsupportedModel)
        #expect(error.message.contains("multi:softprob"))
        #expect(error.description.hasPrefix("model.json"))
    }

    @Test func refusesOtherBoosters() throws {
        var json = try Self.modelJSON()
        Self.editLearner(&json) { learner in
            var booster = learner["gradient_booster"] as! [String: Any]
            booster["name"] = "gblinear"
            learner["gradient_booster"] = booster
        }
        let error = try #require(Self.error { try Self.load(json) })
        #expect(error.code == .unsupportedModel)
        #expect(error.message.contains("gblinear"))
    }

    /// Edits tree `index` of the model in place.
    static func editTree(_ json: inout [String: Any], _ index: Int, _ edit: (inout [String: Any]) -> Void) {
        editLearner(&json) { learner in
            var booster = learner["gradient_booster"] as! [String: Any]
            var model = booster["model"] as! [String: Any]
            var trees = model["trees"] as! [[String: Any]]
            edit(&trees[index])
            model["trees"] = trees
            booster["model"] = model
            learner["gradient_booster"] = booster
        }
    }

    @Test func refusesCategoricalSplitsAndUnsupportedVersions() throws {
        var json = try Self.modelJSON()
        Self.editTree(&json, 0) { tree in
            var splitTypes = tree["split_type"] as! [Int]
            splitTypes[0] = 1
            tree["split_type"] = splitTypes
        }
        #expect(Self.error { try Self.load(json) }?.message.contains("categorical") == true)

        var old = try Self.modelJSON()
        old["version"] = [1, 6, 2]
        #expect(Self.error { try Self.load(old) }?.message.contains("1.6.2") == true)
    }

    @Test func refusesBrokenTrees() throws {
        var json = try Self.modelJSON()
        Self.editTree(&json, 2) { tree in
            var left = tree["left_children"] as! [Int]
            left[1] = 0  // a child pointing back at the root: a cycle
            tree["left_children"] = left
        }
        let error = try #require(Self.error { try Self.load(json) })
        #expect(error.code == .invalidModel)
        #expect(error.message.contains("tree 2"))
    }

    @Test func refusesWhatIsNotAModel() {
        let error = Self.error { try XGBoostModel(json: Data("{\"a\": 1}".utf8), source: "x.json") }
        #expect(error?.code == .invalidModel)
        #expect(error?.message.contains("learner") == true)
        #expect(
            Self.error { try XGBoostModel(json: Data("not json".utf8), source: "x.json") }?.code
                == .invalidModel)
    }

    @Test func baseScoreIsReadInEveryVersionsFormat() throws {
        for version in ["17", "21", "32"] {
            let url = FixtureFiles.fixture("xgboost-versions/xgb\(version)_reg_squarederror.json")
            let model = try XGBoostModel(json: Data(contentsOf: url), source: url.path)
            // 1.7 keeps the 0.5 default; 2.x and 3.x estimate the intercept (about 17 here).
            #expect(model.baseMargin == (version == "17" ? 0.5 : 17.039042))
        }
    }
}
