import JSON

/// The `when` of a mapping: which records it applies to. Compiled at start-up; regular expressions only
/// cost anything when a condition actually uses `matches`.
indirect enum Condition: Sendable {
    case always
    case equals(FieldPath, JSONValue)
    case oneOf(FieldPath, [JSONValue])
    case exists(FieldPath, Bool)
    case matches(FieldPath, CompiledRegex)
    case not(Condition)
    case all([Condition])
    case any([Condition])

    func evaluate<R: RecordView>(_ record: R) -> Bool {
        switch self {
        case .always: return true
        case .equals(let path, let expected):
            guard let v = record.value(at: path) else { return expected.isNull }
            return Self.same(v, expected)
        case .oneOf(let path, let choices):
            guard let v = record.value(at: path) else { return choices.contains(where: \.isNull) }
            return choices.contains { Self.same(v, $0) }
        case .exists(let path, let wanted):
            return record.has(path) == wanted
        case .matches(let path, let regex):
            guard let v = record.value(at: path), let text = Transform.scalarText(v) else { return false }
            return regex.matches(text)
        case .not(let c): return !c.evaluate(record)
        case .all(let cs):
            for c in cs where !c.evaluate(record) { return false }
            return true
        case .any(let cs):
            for c in cs where c.evaluate(record) { return true }
            return false
        }
    }

    /// JSON equality, except that numbers compare by value (`1` equals `1.0`).
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x == y
        case (.number(let x), .number(let y)): return x.literal == y.literal || x.double == y.double
        default: return a == b
        }
    }
}

/// A regular expression compiled at start-up. `Regex` is not `Sendable`; it is immutable once built and only
/// read, so sharing it is safe.
final class CompiledRegex: @unchecked Sendable {
    let pattern: String
    private let regex: Regex<AnyRegexOutput>

    init(pattern: String) throws {
        self.pattern = pattern
        regex = try Regex(pattern)
    }

    /// Unanchored search, as `grep` does: anchor with `^` and `$` to match the whole value.
    func matches(_ text: String) -> Bool {
        (try? regex.firstMatch(in: text)) != nil
    }
}
