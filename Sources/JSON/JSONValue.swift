/// A parsed JSON document.
///
/// Objects keep their members in document order (config error messages and `explain` output read better that
/// way), and numbers keep their literal text so that a numeric id such as `12345678901234567890` can become an
/// id string without passing through a `Double` and losing digits.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// A short name of the value's type for error messages ("a string", "an object").
    public var typeDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var numberValue: JSONNumber? {
        if case .number(let n) = self { return n }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Member lookup on objects; `nil` for anything else.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
}

/// A JSON number, kept as its literal text.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The number exactly as written in the document (or as produced by ``init(_:)-(Double)``).
    public let literal: String

    public init(literal: String) {
        self.literal = literal
    }

    public init(_ value: Double) {
        if value.rounded() == value, abs(value) < 1e15 {
            self.literal = String(Int64(value))
        } else {
            self.literal = "\(value)"
        }
    }

    public init(_ value: Int) {
        self.literal = String(value)
    }

    /// The value as a `Double` (always succeeds for literals the parser accepted).
    public var double: Double {
        if let d = Self.fastDouble(literal) { return d }
        return Double(literal) ?? .nan
    }

    private static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ]

    /// `Double(literal)` for the common short decimals (`2.92`, `-17`, `1705322096`): at most 15 digits and no
    /// exponent, so the digits and the power of ten are exact doubles and one division rounds correctly, exactly
    /// as the full conversion does. `nil` for anything else.
    @inline(__always)
    static func fastDouble(_ literal: String) -> Double? {
        var literal = literal
        return literal.withUTF8 { b -> Double? in
            let n = b.count
            guard n > 0, n <= 17 else { return nil }
            var i = 0
            let negative = b[0] == UInt8(ascii: "-")
            if negative { i = 1 }
            var mantissa: UInt64 = 0
            var digits = 0
            var fraction = -1
            while i < n {
                let c = b[i]
                let d = c &- UInt8(ascii: "0")
                if d < 10 {
                    mantissa = mantissa &* 10 &+ UInt64(d)
                    digits += 1
                    if fraction >= 0 { fraction += 1 }
                } else if c == UInt8(ascii: "."), fraction < 0 {
                    fraction = 0
                } else {
                    return nil
                }
                i += 1
            }
            guard digits > 0, digits <= 15, fraction != 0 else { return nil }
            var v = Double(mantissa)
            if fraction > 0 { v /= exactPowersOfTen[fraction] }
            return negative ? -v : v
        }
    }

    /// True when the literal has no fraction and no exponent.
    public var isInteger: Bool {
        !literal.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") })
    }

    /// The value as an `Int64` when it is an integer literal in range.
    public var int64: Int64? {
        if isInteger { return Int64(literal) }
        let d = double
        guard d.rounded() == d, abs(d) < 9.2e18 else { return nil }
        return Int64(d)
    }

    public var description: String { literal }
}

/// The members of a JSON object in document order.
///
/// Lookups are linear: log records have a handful of keys, and a scan of a small array beats hashing them.
/// When a key repeats, the last occurrence wins, as in JavaScript and most parsers.
public struct JSONObject: Sendable, Hashable, Sequence {
    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONValue

        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    public var members: [Member]

    public init(_ members: [Member] = []) {
        self.members = members
    }

    public init(_ pairs: KeyValuePairs<String, JSONValue>) {
        self.members = pairs.map { Member(key: $0.key, value: $0.value) }
    }

    public subscript(key: String) -> JSONValue? {
        get {
            var i = members.count - 1
            while i >= 0 {
                if members[i].key == key { return members[i].value }
                i -= 1
            }
            return nil
        }
        set {
            if let index = members.lastIndex(where: { $0.key == key }) {
                if let newValue {
                    members[index].value = newValue
                } else {
                    members.remove(at: index)
                }
            } else if let newValue {
                members.append(Member(key: key, value: newValue))
            }
        }
    }

    public var keys: [String] { members.map(\.key) }
    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }

    public func makeIterator() -> IndexingIterator<[Member]> {
        members.makeIterator()
    }
}
