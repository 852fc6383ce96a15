import JSON
import Testing

/// The tape must accept exactly what the parser accepts, and find the values the parser builds.
@Suite struct JSONTapeTests {
    static func parse(_ bytes: [UInt8]) -> JSONValue? { try? JSONParser.parse(bytes) }

    /// Scans `bytes` and checks the tape against the parser: same verdict, same root value, same members.
    static func check(_ bytes: [UInt8], _ tape: JSONTape = JSONTape(capacity: 1)) {
        let expected = parse(bytes)
        bytes.withUnsafeBytes { raw in
            let document = tape.scan(raw)
            #expect((document != nil) == (expected != nil), "verdicts differ on \(Array(bytes))")
            guard let document, let expected else { return }
            #expect(document.value(document.root) == expected)
            compare(document, document.root, expected)
        }
    }

    static func compare(_ d: JSONTape.Document, _ node: Int, _ value: JSONValue) {
        switch value {
        case .object(let o):
            for member in o.members {
                var key = Array(member.key.utf8)
                let ascii = key.allSatisfy { $0 < 0x80 }
                let found = key.withUnsafeMutableBufferPointer {
                    d.member(of: node, key: UnsafeBufferPointer($0), keyIsASCII: ascii, keyString: member.key)
                }
                guard let found else {
                    Issue.record("member \(member.key) not found")
                    continue
                }
                #expect(d.value(found) == o[member.key])
                if let inner = o[member.key] { compare(d, found, inner) }
            }
            var missing = Array("no such key".utf8)
            #expect(
                missing.withUnsafeMutableBufferPointer {
                    d.member(of: node, key: UnsafeBufferPointer($0), keyIsASCII: true, keyString: "no such key")
                } == nil)
        case .array(let elements):
            for (i, e) in elements.enumerated() {
                guard let found = d.element(of: node, at: i) else {
                    Issue.record("element \(i) not found")
                    continue
                }
                #expect(d.value(found) == e)
                compare(d, found, e)
            }
            #expect(d.element(of: node, at: elements.count) == nil)
        default:
            #expect(d.element(of: node, at: 0) == nil)
        }
    }

    static let samples: [String] = [
        #"{}"#, #"[]"#, #"{"a":1}"#, #" {"a" : [1, 2.5, -3e2, true, false, null, "x"]} "#,
        #""\u00e9\ud83d\ude00\n\t\\\/\"""#, "0", "-0.0", "1E+2", #"{"nested":{"deep":[[[{}]]]}}"#,
        #"{"b":1,"a":2,"b":3}"#, #"{"k\u0065y":"v","key":"w","kéy":"é","K":1,"\u212a":2}"#,
        #"{"ts":"2026-11-26T08:00:00.111Z","event":"product_view","user":{"id":"u-1","segment":"new"},"rec":{"id":"r","shown":["a","b"]}}"#,
        #"{"a very long key, longer than seven":{"a very long key, longer than eight":1},"a very long key, longer than seven!":2}"#,
        "{\"\":0,\" \":1}", "[\"😀é\\u0000\", -12.5e-3, 0.0]",
        "", "{", "[1,]", #"{"a":1,}"#, #"{"a" 1}"#, "01", "1.", ".5", "-", "+1", "1e", "tru", "nul", "falsy",
        #""unterminated"#, "\"tab\there\"", #""\x""#, #""\ud800""#, #""\udc00x""#, #""\ud800\u0041""#, "{} {}", "[1 2]",
        "NaN", "Infinity", "[1,2", #"{"a":"#, "\"\\u12\"", "[-]", "[1e+]", "[true false]",
    ]

    @Test func agreesWithTheParserOnSamples() {
        let tape = JSONTape(capacity: 1)  // grows on the way
        for s in Self.samples { Self.check(Array(s.utf8), tape) }
    }

    @Test func agreesOnUTF8Validity() {
        // Every 1-4 byte sequence class, valid or not, inside a string and as a key.
        let sequences: [[UInt8]] = [
            [0x7F], [0x80], [0xBF], [0xC0, 0x80], [0xC1, 0xBF], [0xC2, 0x80], [0xDF, 0xBF], [0xC2],
            [0xE0, 0x9F, 0x80], [0xE0, 0xA0, 0x80], [0xE1, 0x80, 0x80], [0xEC, 0xBF, 0xBF], [0xED, 0x9F, 0xBF],
            [0xED, 0xA0, 0x80], [0xEE, 0x80, 0x80], [0xEF, 0xBF, 0xBF], [0xE2, 0x82], [0xE2, 0x28, 0xA1],
            [0xF0, 0x8F, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80], [0xF3, 0xBF, 0xBF, 0xBF], [0xF4, 0x8F, 0xBF, 0xBF],
            [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0xF0, 0x9F, 0x98],
        ]
        let tape = JSONTape()
        for seq in sequences {
            for prefix in [[], Array("abcdefghij".utf8)] as [[UInt8]] {
                Self.check([0x22] + prefix + seq + [0x22], tape)
                Self.check(Array(#"{""#.utf8) + prefix + seq + Array(#"":1}"#.utf8), tape)
                Self.check([0x22] + prefix + seq + Array(#"\n""#.utf8), tape)
                Self.check([0x22] + prefix + seq, tape)
            }
        }
    }

    @Test func agreesOnNesting() {
        let tape = JSONTape()
        for depth in [127, 128, 129] {
            Self.check(Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8), tape)
            Self.check(
                Array((String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)).utf8),
                tape)
        }
    }

    @Test func bigDocumentsThenSmallOnes() {
        let tape = JSONTape()
        let big = "[" + (0..<5_000).map { #"{"k\#($0 % 7)":\#($0)}"# }.joined(separator: ",") + "]"
        for text in [big, #"{"a":[1,{"b":2}]}"#, big, "[]", #"{"x":"y"}"#] { Self.check(Array(text.utf8), tape) }
    }

    /// Random mutations of valid documents: the verdicts and the values found must match the parser's.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func agreesOnMutatedDocuments(seed: UInt64) {
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let alphabet: [UInt8] =
            Array(#"{}[]:,"\ u0123456789abcdefABCDEF.-+eEtrufalsn"#.utf8) + [
                0x09, 0x0A, 0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xA9, 0xED, 0xA0, 0xF0, 0x9F, 0x98, 0x80, 0xFF,
            ]
        let tape = JSONTape(capacity: 2)
        let valid = Self.samples.filter { Self.parse(Array($0.utf8)) != nil }
        for _ in 0..<4000 {
            var bytes = Array(valid[Int(next() % UInt64(valid.count))].utf8)
            for _ in 0..<(1 + Int(next() % 3)) {
                let position = bytes.isEmpty ? 0 : Int(next() % UInt64(bytes.count + 1))
                switch next() % 3 {
                case 0: bytes.insert(alphabet[Int(next() % UInt64(alphabet.count))], at: position)
                case 1: if position < bytes.count { bytes.remove(at: position) }
                default: if position < bytes.count { bytes[position] = alphabet[Int(next() % UInt64(alphabet.count))] }
                }
            }
            Self.check(bytes, tape)
        }
    }
}

extension JSONTapeTests {
    /// A seeded generator of JSON texts with every kind of token, odd whitespace, escapes and non-ASCII text.
    struct Documents {
        var state: UInt64

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }

        mutating func pick<T>(_ options: [T]) -> T { options[int(options.count)] }

        mutating func space() -> String { int(4) == 0 ? pick([" ", "\t", "\n", "\r\n ", "  "]) : "" }

        mutating func string() -> String {
            let pieces = [
                "a", "key", "é", "😀", "\\n", "\\\"", "\\\\", "\\/", "\\u00e9", "\\ud83d\\ude00", "\\u0000", " ", "ts",
                "user",
                "\u{7F}", "日本", "\\b\\f\\r\\t",
            ]
            return "\"" + (0..<int(5)).map { _ in pick(pieces) }.joined() + "\""
        }

        mutating func number() -> String {
            let sign = int(3) == 0 ? "-" : ""
            let whole = int(4) == 0 ? "0" : String(1 + int(9)) + String(int(100_000))
            let fraction = int(3) == 0 ? "." + String(int(1000)) : ""
            let exponent = int(4) == 0 ? pick(["e", "E"]) + pick(["", "+", "-"]) + String(int(400)) : ""
            return sign + whole + fraction + exponent
        }

        mutating func value(depth: Int) -> String {
            switch depth > 5 ? int(4) : int(7) {
            case 0: return pick(["null", "true", "false"])
            case 1: return number()
            case 2, 3: return string()
            case 4:
                let elements = (0..<int(5)).map { _ in space() + value(depth: depth + 1) + space() }
                return "[" + elements.joined(separator: ",") + (elements.isEmpty ? space() : "") + "]"
            default:
                let members = (0..<int(6)).map { _ in
                    space() + string() + space() + ":" + space() + value(depth: depth + 1)
                }
                return "{" + members.joined(separator: ",") + (members.isEmpty ? space() : "") + "}"
            }
        }

        /// A document, then (most of the time) damaged: cut short, a byte changed, added, removed, or a stretch
        /// repeated.
        mutating func document() -> [UInt8] {
            var bytes = Array((space() + value(depth: 0) + space()).utf8)
            let damage: [UInt8] = Array(#"{}[]:,"\ u0e.-+E1"#.utf8) + [0x00, 0x1F, 0x80, 0xC3, 0xED, 0xF0, 0xFF]
            for _ in 0..<int(3) where !bytes.isEmpty {
                let at = int(bytes.count)
                switch int(5) {
                case 0: bytes.removeSubrange(at...)
                case 1: bytes[at] = pick(damage)
                case 2: bytes.insert(pick(damage), at: at)
                case 3: bytes.remove(at: at)
                default:
                    let end = min(bytes.count, at + 1 + int(8))
                    bytes.insert(contentsOf: bytes[at..<end], at: at)
                }
            }
            return bytes
        }
    }

    /// The tape is the fast path and the parser its oracle: over generated documents, valid and damaged, they must
    /// accept the same ones and find the same values.
    @Test(arguments: [11, 12, 13] as [UInt64])
    func agreesWithTheParserOnGeneratedDocuments(seed: UInt64) {
        var documents = Documents(state: seed)
        let tape = JSONTape(capacity: 4)
        var accepted = 0
        let count = 3000
        for _ in 0..<count {
            let bytes = documents.document()
            if Self.parse(bytes) != nil { accepted += 1 }
            Self.check(bytes, tape)
        }
        // Both verdicts must be well represented, or the comparison says little.
        #expect(accepted > count / 5 && accepted < count * 4 / 5, "\(accepted) of \(count) accepted")
    }
}
