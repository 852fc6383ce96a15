/// Appends compact JSON to a byte buffer.
///
/// Request bodies are built with this rather than `JSONEncoder`: it is several times faster, and its output is
/// deterministic, which the signer and the dry-run output both rely on. Non-ASCII text is written as UTF-8.
public struct JSONWriter: Sendable {
    public var bytes: [UInt8]

    public init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always)
    public mutating func raw(_ byte: UInt8) {
        bytes.append(byte)
    }

    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Writes `"key":` (with a leading comma when `comma` is set).
    public mutating func key(_ key: StaticString, comma: Bool) {
        if comma { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { appendEscaped($0) }
    }

    public mutating func number(_ value: Int64) {
        if value == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var v = value.magnitude
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while v > 0 {
                buffer[count] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                count += 1
            }
            for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[i]) }
        }
    }

    /// Writes a finite double the way Python's `json.dumps` does for floats (shortest round-trip form).
    public mutating func number(_ value: Double) {
        precondition(value.isFinite, "JSON cannot represent \(value)")
        bytes.append(contentsOf: value.description.utf8)
    }

    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let b): b ? raw("true") : raw("false")
        case .number(let n): bytes.append(contentsOf: n.literal.utf8)
        case .string(let s): string(s)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                self.value(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            bytes.append(UInt8(ascii: "{"))
            for (i, member) in object.members.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                string(member.key)
                bytes.append(UInt8(ascii: ":"))
                self.value(member.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    private mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        let n = utf8.count
        bytes.append(UInt8(ascii: "\""))
        guard let p = utf8.baseAddress else {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        var runStart = 0
        var i = 0
        while i < n {
            // Eight bytes at a time while none needs escaping (quote, backslash, control character).
            while i + 8 <= n {
                let w = UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
                let ones: UInt64 = 0x0101_0101_0101_0101
                let q = w ^ (ones &* 0x22)
                let b = w ^ (ones &* 0x5C)
                let t = (((q &- ones) & ~q) | ((b &- ones) & ~b) | ((w &- ones &* 0x20) & ~w)) & 0x8080_8080_8080_8080
                if t != 0 {
                    // The lowest flagged byte is the first that needs escaping (borrows only run upwards).
                    i += t.trailingZeroBitCount >> 3
                    break
                }
                i += 8
            }
            guard i < n else { break }
            let byte = p[i]
            if byte == 0x22 || byte == 0x5C || byte < 0x20 {
                if runStart < i {
                    bytes.append(contentsOf: UnsafeBufferPointer(start: p + runStart, count: i - runStart))
                }
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case 0x22: bytes.append(0x22)
                case 0x5C: bytes.append(0x5C)
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                default:
                    bytes.append(UInt8(ascii: "u"))
                    bytes.append(UInt8(ascii: "0"))
                    bytes.append(UInt8(ascii: "0"))
                    bytes.append(Self.hexDigit(byte >> 4))
                    bytes.append(Self.hexDigit(byte & 0xF))
                }
                runStart = i + 1
            }
            i += 1
        }
        if runStart < n { bytes.append(contentsOf: UnsafeBufferPointer(start: p + runStart, count: n - runStart)) }
        bytes.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    private static func hexDigit(_ v: UInt8) -> UInt8 {
        v < 10 ? UInt8(ascii: "0") + v : UInt8(ascii: "a") + v - 10
    }
}

extension JSONValue {
    /// Compact JSON text of this value.
    public var serialized: String {
        var writer = JSONWriter()
        writer.value(self)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Compact JSON with object keys sorted, for comparisons in tests and golden files.
    public var canonicalized: JSONValue {
        switch self {
        case .array(let a): return .array(a.map(\.canonicalized))
        case .object(let o):
            return .object(
                JSONObject(
                    o.members.sorted { $0.key < $1.key }.map {
                        JSONObject.Member(key: $0.key, value: $0.value.canonicalized)
                    }))
        default: return self
        }
    }
}
