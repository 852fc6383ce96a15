/// The members of one Docker json-file line that matter: where the `log` string and the `time` string lie in the
/// line (between their quotes, still escaped) and the stream.
///
/// A small scanner rather than the JSON parser: the envelope is always a flat object of strings, and only three
/// members are read; other members (`attrs`) are skipped over without being built.
struct DockerEnvelope {
    var log: Range<Int>
    var time: Range<Int>
    var stream: ContainerStream

    struct Problem: Error {
        var reason: String
    }

    static func parse(_ line: UnsafeRawBufferPointer) -> Result<DockerEnvelope, Problem> {
        var s = Scanner(bytes: line)
        var log: Range<Int>?
        var time: Range<Int>?
        var stream: Range<Int>?
        s.skipSpace()
        guard s.take(UInt8(ascii: "{")) else {
            return .failure(Problem(reason: "not a Docker json-file line: not a JSON object"))
        }
        s.skipSpace()
        if !s.take(UInt8(ascii: "}")) {
            while true {
                s.skipSpace()
                guard let key = s.string() else {
                    return .failure(Problem(reason: "not a Docker json-file line: invalid JSON"))
                }
                s.skipSpace()
                guard s.take(UInt8(ascii: ":")) else {
                    return .failure(Problem(reason: "not a Docker json-file line: invalid JSON"))
                }
                s.skipSpace()
                let name =
                    key.count <= 6 ? String(decoding: UnsafeRawBufferPointer(rebasing: line[key]), as: UTF8.self) : ""
                if name == "log" || name == "time" || name == "stream" {
                    guard let value = s.string() else {
                        return .failure(
                            Problem(reason: "the \"\(name)\" member of a Docker json-file line must be a string"))
                    }
                    switch name {
                    case "log": log = value
                    case "time": time = value
                    default: stream = value
                    }
                } else if !s.skipValue() {
                    return .failure(Problem(reason: "not a Docker json-file line: invalid JSON"))
                }
                s.skipSpace()
                if s.take(UInt8(ascii: "}")) { break }
                guard s.take(UInt8(ascii: ",")) else {
                    return .failure(Problem(reason: "not a Docker json-file line: invalid JSON"))
                }
            }
        }
        s.skipSpace()
        guard s.i == line.count else {
            return .failure(Problem(reason: "not a Docker json-file line: text after the object"))
        }
        guard let log else { return .failure(Problem(reason: "a Docker json-file line needs a \"log\" string")) }
        guard let stream else { return .failure(Problem(reason: "a Docker json-file line needs a \"stream\" string")) }
        let name = String(decoding: UnsafeRawBufferPointer(rebasing: line[stream]), as: UTF8.self)
        guard let kind = ContainerStream.allCases.first(where: { $0.name == name }) else {
            return .failure(Problem(reason: "the \"stream\" of a Docker json-file line must be stdout or stderr"))
        }
        return .success(DockerEnvelope(log: log, time: time ?? 0..<0, stream: kind))
    }

    /// Appends the text of an escaped JSON string's inside to `out`; false on an invalid escape. A lone surrogate
    /// becomes U+FFFD, as the JSON parser reads it.
    static func unescape(_ raw: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Bool {
        out.reserveCapacity(raw.count)
        var i = 0
        let n = raw.count
        while i < n {
            // Copy the run up to the next backslash in one piece.
            var j = i
            while j < n, raw[j] != 0x5C { j += 1 }
            if j > i { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[i..<j])) }
            if j == n { break }
            guard j + 1 < n else { return false }
            let c = raw[j + 1]
            i = j + 2
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(c)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                guard var scalar = hex4(raw, i) else { return false }
                i += 4
                if scalar >= 0xD800, scalar < 0xDC00, i + 6 <= n, raw[i] == 0x5C, raw[i + 1] == UInt8(ascii: "u"),
                    let low = hex4(raw, i + 2), low >= 0xDC00, low < 0xE000
                {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                let u = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: String(u).utf8)
            default: return false
            }
        }
        return true
    }

    private static func hex4(_ raw: UnsafeRawBufferPointer, _ at: Int) -> UInt32? {
        guard at + 4 <= raw.count else { return nil }
        var v: UInt32 = 0
        for k in 0..<4 {
            let b = raw[at + k]
            let d: UInt8
            switch b {
            case 0x30...0x39: d = b - 0x30
            case 0x41...0x46: d = b - 0x41 + 10
            case 0x61...0x66: d = b - 0x61 + 10
            default: return nil
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var i = 0

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0D || bytes[i] == 0x0A {
                i += 1
            }
        }

        mutating func take(_ b: UInt8) -> Bool {
            guard i < bytes.count, bytes[i] == b else { return false }
            i += 1
            return true
        }

        /// A string's inside (escapes left in place).
        mutating func string() -> Range<Int>? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = i
            while i < bytes.count {
                switch bytes[i] {
                case 0x5C: i += 2
                case 0x22:
                    i += 1
                    return start..<(i - 1)
                default: i += 1
                }
            }
            return nil
        }

        /// Skips any JSON value (nested containers by depth, strings by their quotes).
        mutating func skipValue() -> Bool {
            guard i < bytes.count else { return false }
            switch bytes[i] {
            case 0x22: return string() != nil
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while i < bytes.count {
                    switch bytes[i] {
                    case 0x22:
                        guard string() != nil else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            i += 1
                            return true
                        }
                    default: break
                    }
                    i += 1
                }
                return false
            default:
                let start = i
                while i < bytes.count,
                    !(bytes[i] == UInt8(ascii: ",") || bytes[i] == UInt8(ascii: "}") || bytes[i] == 0x20)
                {
                    i += 1
                }
                return i > start
            }
        }
    }
}
