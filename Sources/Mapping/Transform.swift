import JSON

/// One step of a rule's `transform` list, applied in order to the value found in the record.
///
/// Steps work on strings and, element by element, on lists; numbers pass through the text steps unchanged so
/// that `["trim", "lower"]` on an id that is sometimes numeric does not fail.
enum Transform: Sendable {
    case lower
    case upper
    case trim
    case lookup([String: String], otherwise: Otherwise)
    case split(String)
    case join(String)
    case string
    case number

    enum Otherwise: Sendable, Hashable {
        case keep, drop
        case replace(String)
    }

    static let names = [
        "lower", "upper", "trim", "string", "number", "{\"lookup\": ...}", "{\"split\": ...}", "{\"join\": ...}",
    ]

    /// Applies the step; `nil` result means the value was dropped (a lookup miss with `"otherwise": "drop"`).
    func apply(_ value: JSONValue) -> Result<JSONValue?, ValueProblem> {
        switch self {
        case .lower: return .success(mapText(value) { Self.mayChangeCase($0, toLower: true) ? $0.lowercased() : $0 })
        case .upper: return .success(mapText(value) { Self.mayChangeCase($0, toLower: false) ? $0.uppercased() : $0 })
        case .trim: return .success(mapText(value) { Self.trimmed($0) })
        case .lookup(let table, let otherwise):
            guard let key = Self.scalarText(value) else {
                return .failure(ValueProblem("lookup needs a string or number, found \(value.typeDescription)"))
            }
            if let hit = table[key] { return .success(.string(hit)) }
            switch otherwise {
            case .keep: return .success(value)
            case .drop: return .success(nil)
            case .replace(let s): return .success(.string(s))
            }
        case .split(let separator):
            switch value {
            case .array: return .success(value)
            case .string(let s):
                let parts = s.split(separator: separator, omittingEmptySubsequences: false)
                var out: [JSONValue] = []
                out.reserveCapacity(parts.count)
                for part in parts {
                    let t = Self.trimmed(String(part))
                    if !t.isEmpty { out.append(.string(t)) }
                }
                return .success(.array(out))
            default: return .success(.array([value]))
            }
        case .join(let separator):
            guard case .array(let elements) = value else { return .success(value) }
            var texts: [String] = []
            texts.reserveCapacity(elements.count)
            for e in elements {
                guard let t = Self.scalarText(e) else {
                    return .failure(
                        ValueProblem("join needs a list of strings or numbers, found \(e.typeDescription) in it"))
                }
                texts.append(t)
            }
            return .success(.string(texts.joined(separator: separator)))
        case .string:
            if case .array = value { return .success(value) }
            guard let t = Self.scalarText(value) else {
                return .failure(ValueProblem("cannot make a string of \(value.typeDescription)"))
            }
            return .success(.string(t))
        case .number:
            switch value {
            case .number: return .success(value)
            case .string(let s) where TimeParsing.isNumberLiteral(s): return .success(.number(JSONNumber(literal: s)))
            default: return .failure(ValueProblem("expected a number, found \(ValueProblem.show(value))"))
            }
        }
    }

    private func mapText(_ value: JSONValue, _ f: (String) -> String) -> JSONValue {
        switch value {
        case .string(let s): return .string(f(s))
        case .array(let a): return .array(a.map { mapText($0, f) })
        default: return value
        }
    }

    /// Whether `s` may change under case mapping: it has a letter of the other case, or non-ASCII text. Most ids
    /// and event types are already in the wanted case; this spares allocating a copy.
    @inline(__always)
    static func mayChangeCase(_ s: String, toLower: Bool) -> Bool {
        let lo: UInt8 = toLower ? 0x41 : 0x61
        for b in s.utf8 where b >= 0x80 || (b >= lo && b <= lo + 25) { return true }
        return false
    }

    /// Text of a string, number (its literal) or boolean; `nil` for containers and null.
    static func scalarText(_ value: JSONValue) -> String? {
        switch value {
        case .string(let s): return s
        case .number(let n): return n.literal
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }

    /// Trims ASCII and Unicode white space without Foundation.
    static func trimmed(_ s: String) -> String {
        let scalars = s.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        if first == scalars.startIndex && last == scalars.index(before: scalars.endIndex) { return s }
        return String(scalars[first...last])
    }
}
