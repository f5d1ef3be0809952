import Foundation

extension XGBoostModel {
    /// Reads a model written by XGBoost's `save_model("model.json")`, versions 1.7 to 3.x.
    ///
    /// Only what this scorer computes exactly is accepted: the `gbtree` booster, numerical splits, one
    /// output, and the objectives in `Objective`. Anything else is refused here, at load time, with
    /// the reason — never scored approximately. `source` names the file in messages.
    public init(json: Data, source: String, version: String? = nil) throws {
        func fail(_ message: String) -> CoreError {
            CoreError(.invalidModel, message, at: SourceLocation(file: source))
        }
        func refuse(_ message: String) -> CoreError {
            CoreError(.unsupportedModel, message, at: SourceLocation(file: source))
        }
        let file: ModelFile
        do {
            file = try JSONDecoder().decode(ModelFile.self, from: json)
        } catch let error as DecodingError {
            throw fail("not an XGBoost JSON model: \(Self.describe(error))")
        }
        let writer = file.version ?? []
        guard writer.count >= 2, (writer[0] == 1 && writer[1] >= 7) || (2...3).contains(writer[0])
        else {
            let written =
                writer.isEmpty ? "an unknown version" : writer.map(String.init).joined(separator: ".")
            throw refuse("written by XGBoost \(written); supported are 1.7 to 3.x")
        }
        let learner = file.learner
        guard let objective = Objective(rawValue: learner.objective.name) else {
            throw refuse(
                "objective '\(learner.objective.name)' is not supported; supported are "
                    + Objective.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard learner.gradientBooster.name == "gbtree", let trees = learner.gradientBooster.model?.trees
        else {
            throw refuse(
                "booster '\(learner.gradientBooster.name)' is not supported; only gbtree is")
        }
        let parameters = learner.learnerModelParam
        for (name, value) in [("num_class", parameters.numClass), ("num_target", parameters.numTarget)] {
            if let value, let count = Int(value), count > 1 {
                throw refuse("\(name) is \(count); only single-output models are supported")
            }
        }
        guard let featureCount = Int(parameters.numFeature), featureCount > 0 else {
            throw fail("learner_model_param.num_feature '\(parameters.numFeature)' is not a positive number")
        }
        if let types = learner.featureTypes, types.contains("c") {
            throw refuse("categorical features are not supported")
        }
        let names = learner.featureNames ?? []
        guard names.isEmpty || names.count == featureCount else {
            throw fail("\(names.count) feature_names for \(featureCount) features")
        }

        let baseScoreText = parameters.baseScore.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
        guard let baseScore = Float(baseScoreText) else {
            throw fail("base_score '\(parameters.baseScore)' is not a number")
        }
        let baseMargin: Float
        if objective.isLogistic {
            guard baseScore > 0, baseScore < 1 else {
                throw fail("base_score \(baseScore) must be between 0 and 1 for \(objective.rawValue)")
            }
            baseMargin = -logf(1 / baseScore - 1)  // XGBoost's ProbToMargin, in Float
        } else {
            baseMargin = baseScore
        }

        var nodes: [Node] = []
        var flatTrees: [Tree] = []
        for (index, tree) in trees.enumerated() {
            do {
                flatTrees.append(try Self.flatten(tree, featureCount: featureCount, into: &nodes))
            } catch let message as TreeProblem {
                throw fail("tree \(index): \(message.text)")
            }
        }
        self.featureNames = names.isEmpty ? nil : names
        self.featureCount = featureCount
        self.version = version
        self.objective = objective
        self.baseMargin = baseMargin
        self.writerVersion = writer
        self.nodes = nodes
        self.trees = flatTrees
        self.forest = QuantizedForest(nodes: nodes, trees: flatTrees, featureCount: featureCount)
    }

    private struct TreeProblem: Error { var text: String }

    /// Appends one tree's nodes to `nodes` in breadth-first order with each node's two children side
    /// by side, and checks that it is a proper tree: every index in range, every node reached once.
    private static func flatten(_ tree: TreeJSON, featureCount: Int, into nodes: inout [Node]) throws
        -> Tree
    {
        let count = tree.leftChildren.count
        guard count > 0,
            [
                tree.rightChildren.count, tree.splitIndices.count, tree.splitConditions.count,
                tree.defaultLeft.values.count,
            ].allSatisfy({ $0 == count })
        else { throw TreeProblem(text: "its node arrays are empty or of different lengths") }
        if let types = tree.splitType, types.contains(where: { $0 != 0 }) {
            throw TreeProblem(text: "categorical splits are not supported")
        }
        let offset = nodes.count
        var reached = [Bool](repeating: false, count: count)
        reached[0] = true
        // Breadth-first: `order[k]` is the file's index of the node stored at `offset + k`.
        var order = [0]
        var depth = [0]
        var flat: [Node] = []
        var maxDepth = 0
        var next = 0
        while next < order.count {
            let index = order[next]
            let position = Int32(offset + next)
            let left = tree.leftChildren[index]
            let right = tree.rightChildren[index]
            if left == -1 {
                flat.append(
                    Node(
                        featureAndMissingRight: 0, threshold: .nan, firstChild: position,
                        leafValue: tree.splitConditions[index]))
                maxDepth = max(maxDepth, depth[next])
                next += 1
                continue
            }
            let feature = tree.splitIndices[index]
            guard (0..<count).contains(left), (0..<count).contains(right), left != right else {
                throw TreeProblem(text: "node \(index) has children \(left) and \(right) out of range")
            }
            guard (0..<featureCount).contains(feature) else {
                throw TreeProblem(text: "node \(index) splits on feature \(feature) of \(featureCount)")
            }
            for child in [left, right] {
                guard !reached[child] else {
                    throw TreeProblem(text: "node \(child) is reached twice: not a tree")
                }
                reached[child] = true
            }
            let missingRight = tree.defaultLeft.values[index] ? 0 : Node.missingRightBit
            flat.append(
                Node(
                    featureAndMissingRight: UInt32(feature) | missingRight,
                    threshold: tree.splitConditions[index],
                    firstChild: Int32(offset + order.count), leafValue: 0))
            order += [left, right]
            depth += [depth[next] + 1, depth[next] + 1]
            next += 1
        }
        nodes.append(contentsOf: flat)
        return Tree(root: Int32(offset), depth: maxDepth)
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing key \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "unexpected value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "invalid JSON"
                : "invalid value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        @unknown default:
            return "unreadable"
        }
    }
}

// The parts of XGBoost's JSON schema this scorer reads.
private struct ModelFile: Decodable {
    var version: [Int]?
    var learner: Learner
}

private struct Learner: Decodable {
    var featureNames: [String]?
    var featureTypes: [String]?
    var learnerModelParam: Parameters
    var objective: ObjectiveName
    var gradientBooster: Booster

    enum CodingKeys: String, CodingKey {
        case featureNames = "feature_names"
        case featureTypes = "feature_types"
        case learnerModelParam = "learner_model_param"
        case objective
        case gradientBooster = "gradient_booster"
    }
}

private struct Parameters: Decodable {
    var baseScore: String
    var numFeature: String
    var numClass: String?
    var numTarget: String?

    enum CodingKeys: String, CodingKey {
        case baseScore = "base_score"
        case numFeature = "num_feature"
        case numClass = "num_class"
        case numTarget = "num_target"
    }
}

private struct ObjectiveName: Decodable { var name: String }

private struct Booster: Decodable {
    var name: String
    var model: TreeModel?
}

private struct TreeModel: Decodable { var trees: [TreeJSON] }

private struct TreeJSON: Decodable {
    var leftChildren: [Int]
    var rightChildren: [Int]
    var splitIndices: [Int]
    var splitConditions: [Float]
    var defaultLeft: Flags
    var splitType: [Int]?

    enum CodingKeys: String, CodingKey {
        case leftChildren = "left_children"
        case rightChildren = "right_children"
        case splitIndices = "split_indices"
        case splitConditions = "split_conditions"
        case defaultLeft = "default_left"
        case splitType = "split_type"
    }
}

/// `default_left` is written as 0/1 numbers by some versions and as booleans by others.
private struct Flags: Decodable {
    var values: [Bool]
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let numbers = try? container.decode([Int].self) {
            values = numbers.map { $0 != 0 }
        } else {
            values = try container.decode([Bool].self)
        }
    }
}
