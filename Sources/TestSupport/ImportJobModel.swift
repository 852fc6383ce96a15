import Foundation

/// The dataset import job operations' shapes, read from the committed excerpt of botocore's `personalize` model
/// (`Resources/personalize-import-model.json`), and a validator of request bodies against them: required members,
/// unknown members, types, string lengths (in Unicode scalars), patterns, enum values, list lengths and integer
/// ranges. The service's own validation answers 400 `ValidationException` for the same faults.
public struct ImportJobModel: Sendable {
    /// The model file next to this source file (tests run from the package's checkout).
    public static let path: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Resources/personalize-import-model.json").path

    nonisolated(unsafe) private let shapes: [String: [String: Any]]
    nonisolated(unsafe) private let operations: [String: [String: Any]]

    public init(path: String = ImportJobModel.path) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let root = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        shapes = root["shapes"] as? [String: [String: Any]] ?? [:]
        operations = root["operations"] as? [String: [String: Any]] ?? [:]
    }

    /// The operations the model describes (`CreateDatasetImportJob`, ...).
    public var operationNames: Set<String> { Set(operations.keys) }

    /// What is wrong with `body` as the input of `operation` (empty: valid), each as `path: problem`.
    public func violations(operation: String, body: [UInt8]) -> [String] {
        guard let op = operations[operation], let input = (op["input"] as? [String: Any])?["shape"] as? String else {
            return ["unknown operation \(operation)"]
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) else {
            return ["body: not JSON"]
        }
        var errors: [String] = []
        check(object, shape: input, path: "", errors: &errors)
        return errors
    }

    private func check(_ value: Any, shape name: String, path: String, errors: inout [String]) {
        guard let shape = shapes[name] else { return errors.append("\(path): shape \(name) missing from the model") }
        let at = path.isEmpty ? "body" : path
        switch shape["type"] as? String {
        case "structure":
            guard let object = value as? [String: Any] else { return errors.append("\(at): must be an object") }
            let members = shape["members"] as? [String: [String: Any]] ?? [:]
            for required in shape["required"] as? [String] ?? []
            where object[required] == nil || object[required] is NSNull {
                errors.append("\(path.isEmpty ? "" : path + ".")\(required): required member missing")
            }
            for (key, member) in object.sorted(by: { $0.key < $1.key }) {
                let memberPath = path.isEmpty ? key : "\(path).\(key)"
                guard let m = members[key], let target = m["shape"] as? String else {
                    errors.append("\(memberPath): unknown member")
                    continue
                }
                check(member, shape: target, path: memberPath, errors: &errors)
            }
        case "list":
            guard let list = value as? [Any] else { return errors.append("\(at): must be a list") }
            if let min = shape["min"] as? Int, list.count < min { errors.append("\(at): fewer than \(min) members") }
            if let max = shape["max"] as? Int, list.count > max { errors.append("\(at): more than \(max) members") }
            let member = (shape["member"] as? [String: Any])?["shape"] as? String ?? ""
            for (i, item) in list.enumerated() { check(item, shape: member, path: "\(at)[\(i)]", errors: &errors) }
        case "string":
            guard let text = value as? String else { return errors.append("\(at): must be a string") }
            let length = text.unicodeScalars.count
            if let min = shape["min"] as? Int, length < min { errors.append("\(at): shorter than \(min)") }
            if let max = shape["max"] as? Int, length > max { errors.append("\(at): longer than \(max)") }
            if let values = shape["enum"] as? [String], !values.contains(text) {
                errors.append("\(at): \"\(text)\" is not one of \(values.joined(separator: ", "))")
            }
            if let pattern = shape["pattern"] as? String, !Self.matches(text, pattern) {
                errors.append("\(at): does not match \(pattern)")
            }
        case "boolean":
            guard !(value is String), let n = value as? NSNumber, n.objCType.pointee == CChar(UInt8(ascii: "c")) else {
                return errors.append("\(at): must be a boolean")
            }
        case "integer":
            guard RequestValidator.isNumber(value), let n = value as? NSNumber, n.doubleValue == n.doubleValue.rounded()
            else {
                return errors.append("\(at): must be an integer")
            }
            if let min = shape["min"] as? Int, n.intValue < min { errors.append("\(at): less than \(min)") }
            if let max = shape["max"] as? Int, n.intValue > max { errors.append("\(at): more than \(max)") }
        default:
            break
        }
    }

    /// Smithy patterns are unanchored searches (ECMA 262 `RegExp.test`), as the service applies them.
    static func matches(_ text: String, _ pattern: String) -> Bool {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return false }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
