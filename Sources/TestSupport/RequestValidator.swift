import Foundation

/// Checks a parsed JSON body against `ModelShape`, reporting violations the way Coral's validator does:
/// `Value null at 'eventList.1.member.sentAt' failed to satisfy constraint: Member must not be null`
/// (list positions 1-based, values left out since most members are `sensitive`).
struct RequestValidator {
    /// One step of the path to a member; formatted only when there is something to report.
    private enum Step {
        case member(String)
        case index(Int)
    }

    static let maxReported = 10

    private var path: [Step] = []
    private(set) var errors: [String] = []

    /// The violations in `body` for `operation` (empty when it is valid).
    static func violations(of operation: PersonalizeStandIn.Operation, object: Any) -> [String] {
        var validator = RequestValidator()
        validator.check(object, ModelShape.input(of: operation))
        return validator.errors
    }

    /// The `InvalidInputException` message for `errors`.
    static func message(for errors: [String]) -> String {
        let count = errors.count
        return "\(count) validation error\(count == 1 ? "" : "s") detected: " + errors.joined(separator: "; ")
    }

    private var location: String {
        var out = ""
        for step in path {
            switch step {
            case .member(let name):
                if !out.isEmpty { out += "." }
                out += name
            case .index(let index):
                out += ".\(index + 1).member"
            }
        }
        return out
    }

    private mutating func fail(_ constraint: String, null: Bool = false) {
        guard errors.count < Self.maxReported else { return }
        errors.append("Value\(null ? " null" : "") at '\(location)' failed to satisfy constraint: \(constraint)")
    }

    private mutating func check(_ value: Any, _ shape: ModelShape) {
        switch shape {
        case .string(let min, let max, let format):
            guard let text = value as? String else { return fail("Member must be a string") }
            checkString(text, min: min, max: max, format: format)
        case .number(let what):
            guard Self.isNumber(value) else { return fail("Member must be \(what)") }
        case .list(let member, let min, let max):
            guard let list = value as? [Any] else { return fail("Member must be a list") }
            if list.count < min { fail("Member must have length greater than or equal to \(min)") }
            if list.count > max { fail("Member must have length less than or equal to \(max)") }
            for (index, element) in list.enumerated() {
                path.append(.index(index))
                if Self.isNull(element) { fail("Member must not be null", null: true) } else { check(element, member) }
                path.removeLast()
            }
        case .structure(let structure):
            guard let object = value as? [String: Any] else { return fail("Member must be a JSON object") }
            checkStructure(object, structure)
        }
    }

    private mutating func checkStructure(_ object: [String: Any], _ structure: StructureShape) {
        for name in structure.required where object[name].map(Self.isNull) ?? true {
            path.append(.member(name))
            fail("Member must not be null", null: true)
            path.removeLast()
        }
        for (name, value) in object {
            path.append(.member(name))
            defer { path.removeLast() }
            guard let shape = structure.members[name] else {
                fail("Member is not part of the service model (unknown member '\(name)')")
                continue
            }
            if Self.isNull(value) { continue }
            check(value, shape)
        }
    }

    private mutating func checkString(_ text: String, min: Int, max: Int, format: ModelShape.StringFormat) {
        let length = text.unicodeScalars.count
        if length < min { fail("Member must have length greater than or equal to \(min)") }
        if length > max { fail("Member must have length less than or equal to \(max)") }
        switch format {
        case .plain:
            break
        case .datasetArn:
            if !Self.isDatasetArn(text) {
                fail(#"Member must satisfy regular expression pattern: arn:([a-z\d-]+):personalize:.*:.*:.+"#)
            }
        case .printableASCII:
            if !Self.isPrintableASCII(text) {
                fail(#"Member must satisfy regular expression pattern: ^[\x20-\x7E]*[\x21-\x7E]+[\x20-\x7E]*$"#)
            }
        case .jsonObject(let reserved):
            guard length >= min,
                let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            else {
                if length >= min { fail("Member must be a string holding a serialized JSON object") }
                return
            }
            for key in object.keys where reserved.contains(key.lowercased()) {
                fail("Member must not use the reserved property key '\(key)'")
            }
        }
    }

    // MARK: Primitive checks

    /// `value is NSNull` would bridge every Swift string, array and dictionary to Foundation first (most of
    /// the validator's time on Linux); comparing the dynamic type does not.
    static func isNull(_ value: Any) -> Bool {
        ObjectIdentifier(type(of: value) as Any.Type) == ObjectIdentifier(NSNull.self)
    }

    /// JSONSerialization yields NSNumber for numbers and booleans alike; booleans report objCType "c".
    static func isNumber(_ value: Any) -> Bool {
        guard !(value is String), let number = value as? NSNumber else { return false }
        return number.objCType.pointee != CChar(UInt8(ascii: "c"))
    }

    /// `arn:([a-z\d-]+):personalize:.*:.*:.+` matched whole, `.` excluding line terminators.
    static func isDatasetArn(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        if bytes.contains(where: { $0 == 0x0A || $0 == 0x0D }) { return false }
        guard bytes.starts(with: Array("arn:".utf8)) else { return false }
        var index = 4
        let partitionStart = index
        while index < bytes.count, bytes[index] != UInt8(ascii: ":") {
            let b = bytes[index]
            let allowed =
                (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
                || b == UInt8(ascii: "-")
            if !allowed { return false }
            index += 1
        }
        guard index > partitionStart, index < bytes.count else { return false }
        let rest = Array(bytes[(index + 1)...])
        guard rest.starts(with: Array("personalize:".utf8)) else { return false }
        let tail = rest.dropFirst("personalize:".utf8.count)
        guard let first = tail.firstIndex(of: UInt8(ascii: ":")),
            let second = tail[(first + 1)...].firstIndex(of: UInt8(ascii: ":"))
        else { return false }
        return second < tail.endIndex - 1
    }

    /// `^[\x20-\x7E]*[\x21-\x7E]+[\x20-\x7E]*$`: printable ASCII with at least one non-space.
    static func isPrintableASCII(_ text: String) -> Bool {
        var sawVisible = false
        for byte in text.utf8 {
            guard byte >= 0x20 && byte <= 0x7E else { return false }
            if byte != 0x20 { sawVisible = true }
        }
        return sawVisible
    }
}
