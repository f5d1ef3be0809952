import Foundation

/// The JSON of an Open Inference Protocol (KServe v2) REST inference: the request for a block of
/// rows, and the scores read back from the response, with every check a wrong answer needs to be
/// told apart from a right one (the output named, its length, its values).
public enum OpenInferenceCodec {
    /// `{"inputs":[{"name","shape":[rows, features],"datatype","data":[…]}]}`, row-major; a missing
    /// value (NaN) is sent as `null`, which the servers read as NaN (JSON has no NaN).
    public static func request(_ features: UnsafeBufferPointer<Float>, rows: Int, model: RemoteModel)
        -> [UInt8]
    {
        let columns = model.features.count
        var text =
            "{\"inputs\":[{\"name\":" + JSONText.quoted(model.inputName) + ",\"shape\":[\(rows),\(columns)]"
        text += ",\"datatype\":\"\(model.datatype.rawValue)\",\"data\":["
        text.reserveCapacity(text.utf8.count + rows * columns * 10)
        for index in 0..<(rows * columns) {
            if index > 0 { text += "," }
            let value = features[index]
            text +=
                value.isNaN
                ? "null" : (value.isInfinite ? (value > 0 ? "3.4028235e38" : "-3.4028235e38") : "\(value)")
        }
        text += "]}]"
        if let output = model.outputName {
            text += ",\"outputs\":[{\"name\":" + JSONText.quoted(output) + "}]"
        }
        return Array((text + "}").utf8)
    }

    /// The `rows` scores of a response: the output named `model.outputName` (else the first), of
    /// shape [rows] or [rows, 1].
    public static func scores(_ body: [UInt8], rows: Int, model: RemoteModel) throws(CoreError) -> [Float] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let outputs = object["outputs"] as? [[String: Any]]
        else {
            throw CoreError(
                .invalidModel,
                "the model server's answer is not an inference response (no \"outputs\"): \(excerpt(body))")
        }
        let output =
            model.outputName.map { name in outputs.first { $0["name"] as? String == name } } ?? outputs.first
        guard let output else {
            let names = outputs.compactMap { $0["name"] as? String }.joined(separator: ", ")
            throw CoreError(
                .invalidModel,
                "the answer has no output \(model.outputName ?? "") (outputs: \(names.isEmpty ? "none" : names))"
            )
        }
        let shape = (output["shape"] as? [Any])?.compactMap { ($0 as? NSNumber)?.intValue } ?? []
        guard shape == [rows] || shape == [rows, 1] else {
            throw CoreError(
                .invalidModel, "expected an output of shape [\(rows)] or [\(rows), 1], got \(shape)")
        }
        guard let data = output["data"] as? [Any], data.count == rows else {
            throw CoreError(
                .invalidModel,
                "expected \(rows) values in output \(output["name"] as? String ?? ""), got \((output["data"] as? [Any])?.count ?? 0)"
            )
        }
        return try data.enumerated().map { (index, value) throws(CoreError) -> Float in
            guard let number = JSONNumber.value(value) else {
                throw CoreError(.invalidModel, "output value \(index) is not a number")
            }
            return Float(number)
        }
    }

    /// The first `limit` bytes of a server's answer, on one line, for messages.
    public static func excerpt(_ body: [UInt8], limit: Int = 200) -> String {
        let text = String(decoding: body.prefix(limit), as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
