/// A validated, flat index of the tokens of one JSON document, for reading a few values out of a log line without
/// building a ``JSONValue`` tree: the fast path that validates every log line the agent maps.
///
/// ``scan(_:maxDepth:)`` accepts exactly the documents ``JSONParser/parse(_:maxDepth:)-(UnsafeRawBufferPointer,_)``
/// accepts (the same grammar, UTF-8 validation, escape and nesting rules) but only records where each token starts
/// and ends. Values are then found with ``member(of:key:keyIsASCII:keyString:)`` and ``element(of:at:)`` and made
/// into ``JSONValue``s with ``value(_:)`` (equal to what the parser would have produced for them). It says nothing
/// about *why* a document is invalid: callers re-parse a rejected document with ``JSONParser`` for the error.
///
/// ``JSONParser`` is its oracle: JSONTapeTests feeds both the same samples and random, generated and damaged
/// documents and compares their verdicts and the values found.
///
/// A tape is a reusable scratch buffer (one per owner, not shared between threads): nodes are indices into it, and
/// they and the values made from them refer to the bytes last scanned, which must stay alive and unchanged while the
/// tape is read.
public final class JSONTape {
    /// One token. Objects are followed by their members as (key string, value) node pairs, arrays by their
    /// elements; `next` is the index of the node after the token and everything inside it.
    @usableFromInline
    struct Node {
        @usableFromInline var start: Int32  // first byte (the quote of a string, the bracket of a container)
        @usableFromInline var end: Int32  // one past the last byte
        @usableFromInline var next: Int32
        /// Objects: where their members start in the member table, and how many there are.
        @usableFromInline var members: Int32 = 0
        @usableFromInline var memberCount: Int32 = 0
        @usableFromInline var kind: UInt8
        @usableFromInline var flags: UInt8  // strings: escape and/or non-ASCII

        @inlinable init(start: Int32, end: Int32, next: Int32, kind: UInt8, flags: UInt8) {
            self.start = start
            self.end = end
            self.next = next
            self.kind = kind
            self.flags = flags
        }
    }

    /// An object member in the member table: its key node (the value is the node after it) and a signature of
    /// the key, so that a lookup compares one word per member instead of walking the tape.
    @usableFromInline
    struct Member {
        /// Plain keys (ASCII, no escapes): the length (up to 255) in the top byte, then up to 7 first bytes.
        /// Other keys: all ones.
        @usableFromInline var signature: UInt64
        @usableFromInline var key: Int32

        @inlinable init(signature: UInt64, key: Int32) {
            self.signature = signature
            self.key = key
        }
    }

    /// The signature of a plain (ASCII) key of `count` bytes at `p`, for
    /// ``Document/member(of:key:signature:keyIsASCII:keyString:)``.
    @inlinable
    public static func signature(_ p: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
        var sig = UInt64(truncatingIfNeeded: min(count, 255)) << 56
        var i = 0
        let m = min(count, 7)
        while i < m {
            sig |= UInt64(p[i]) << (8 * UInt64(i))
            i += 1
        }
        return sig
    }

    @usableFromInline static let irregular: UInt64 = ~0

    public enum Kind {
        public static let null: UInt8 = 0
        public static let `false`: UInt8 = 1
        public static let `true`: UInt8 = 2
        public static let number: UInt8 = 3
        public static let string: UInt8 = 4
        public static let array: UInt8 = 5
        public static let object: UInt8 = 6
    }

    @usableFromInline static let escaped: UInt8 = 1
    @usableFromInline static let nonASCII: UInt8 = 2

    private var nodes: UnsafeMutablePointer<Node>
    private var capacity: Int
    private var members: UnsafeMutablePointer<Member>
    private var memberCapacity: Int

    /// Buffers larger than this (in entries, about 24 bytes each) are released before the next scan.
    static let keptCapacity = 4096

    public init(capacity: Int = 64) {
        self.capacity = max(capacity, 8)
        nodes = .allocate(capacity: self.capacity)
        memberCapacity = self.capacity
        members = .allocate(capacity: memberCapacity)
    }

    deinit {
        nodes.deallocate()
        members.deallocate()
    }

    /// Indexes `bytes`; `nil` when they are not one valid JSON document (whitespace may surround it).
    /// The document reads this tape and `bytes`: use it before the next scan, while `bytes` are alive.
    public func scan(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = JSONParser.defaultMaxDepth) -> Document? {
        guard let start = bytes.baseAddress, bytes.count > 0, bytes.count < Int(Int32.max) else { return nil }
        let p = start.assumingMemoryBound(to: UInt8.self)
        // A huge document grew the buffers: give the memory back rather than keep it for good.
        if capacity > Self.keptCapacity {
            nodes.deallocate()
            capacity = 256
            nodes = .allocate(capacity: capacity)
        }
        if memberCapacity > Self.keptCapacity {
            members.deallocate()
            memberCapacity = 256
            members = .allocate(capacity: memberCapacity)
        }
        var s = Scanner(
            nodes: nodes, capacity: capacity, members: members, memberCapacity: memberCapacity, p: p, n: bytes.count,
            maxDepth: maxDepth)
        s.skipWhitespace()
        let ok = s.value(depth: 0)
        // The scanner may have grown the buffers: keep the bigger ones.
        nodes = s.nodes
        capacity = s.capacity
        members = s.members
        memberCapacity = s.memberCapacity
        guard ok else { return nil }
        s.skipWhitespace()
        guard s.i == s.n else { return nil }
        return Document(nodes: UnsafePointer(s.nodes), members: UnsafePointer(s.members), base: p)
    }
}

extension JSONTape {
    /// A scanned document: node 0 is its root.
    public struct Document {
        @usableFromInline let nodes: UnsafePointer<Node>
        @usableFromInline let members: UnsafePointer<Member>
        @usableFromInline let base: UnsafePointer<UInt8>

        @inlinable init(nodes: UnsafePointer<Node>, members: UnsafePointer<Member>, base: UnsafePointer<UInt8>) {
            self.nodes = nodes
            self.members = members
            self.base = base
        }

        /// The root node.
        @inlinable public var root: Int { 0 }

        /// The kind of `node` (see ``Kind``).
        @inlinable public func kind(_ node: Int) -> UInt8 { nodes[node].kind }

        /// The value of member `key` of the object at `node`: the last one when the key repeats (as
        /// ``JSONObject``'s subscript does); `nil` when `node` is not an object or has no such member.
        /// `key` is `keyString`'s UTF-8; keys are compared as `String`s (canonical equivalence) unless both are ASCII.
        @inlinable
        public func member(
            of node: Int, key: UnsafeBufferPointer<UInt8>, keyIsASCII: Bool, keyString: @autoclosure () -> String
        ) -> Int? {
            member(
                of: node, key: key, signature: keyIsASCII ? JSONTape.signature(key.baseAddress ?? base, key.count) : 0,
                keyIsASCII: keyIsASCII, keyString: keyString())
        }

        /// ``member(of:key:keyIsASCII:keyString:)`` with the key's ``JSONTape/signature(_:_:)`` computed
        /// beforehand (only read when the key is ASCII).
        @inlinable
        public func member(
            of node: Int, key: UnsafeBufferPointer<UInt8>, signature target: UInt64, keyIsASCII: Bool,
            keyString: @autoclosure () -> String
        ) -> Int? {
            let object = nodes[node]
            guard object.kind == Kind.object else { return nil }
            let first = Int(object.members)
            var j = first + Int(object.memberCount) - 1
            // Backwards: the last occurrence of a repeated key wins.
            if keyIsASCII {
                while j >= first {
                    let m = members[j]
                    if m.signature == target {
                        // Same length (up to 255) and first 7 bytes: short keys are settled, longer ones compared.
                        if key.count <= 7 { return Int(m.key) + 1 }
                        let k = nodes[Int(m.key)]
                        if Int(k.end - k.start) - 2 == key.count
                            && memcmpEqual(base + Int(k.start) + 8, key.baseAddress! + 7, key.count - 7)
                        {
                            return Int(m.key) + 1
                        }
                    } else if m.signature == JSONTape.irregular, string(Int(m.key)) == keyString() {
                        return Int(m.key) + 1
                    }
                    j -= 1
                }
            } else {
                // A non-ASCII name may equal differently spelt text (canonical equivalence): compare as `String`s.
                let name = keyString()
                while j >= first {
                    let m = members[j]
                    if string(Int(m.key)) == name { return Int(m.key) + 1 }
                    j -= 1
                }
            }
            return nil
        }

        @inlinable
        func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
            var i = 0
            while i < n {
                if a[i] != b[i] { return false }
                i += 1
            }
            return true
        }

        /// Element `index` of the array at `node`; `nil` when `node` is not an array or is shorter.
        @inlinable
        public func element(of node: Int, at index: Int) -> Int? {
            let array = nodes[node]
            guard array.kind == Kind.array else { return nil }
            let end = Int(array.next)
            var e = node + 1
            var i = 0
            while e < end {
                if i == index { return e }
                e = Int(nodes[e].next)
                i += 1
            }
            return nil
        }

        /// The bytes of the token at `node`: a string's with its quotes, a number's literal, a container's whole text.
        @inlinable public func token(_ node: Int) -> UnsafeBufferPointer<UInt8> {
            let n = nodes[node]
            return UnsafeBufferPointer(start: base + Int(n.start), count: Int(n.end - n.start))
        }

        /// Whether the string at `node` has no escape sequence: its text is the bytes between its quotes.
        @inlinable public func isUnescaped(_ node: Int) -> Bool { nodes[node].flags & JSONTape.escaped == 0 }

        /// Whether the string at `node` is all ASCII.
        @inlinable public func isASCII(_ node: Int) -> Bool { nodes[node].flags & JSONTape.nonASCII == 0 }

        /// The node after `node` and everything inside it: an array's elements are the nodes from `node + 1`
        /// up to this one, each the `after` of the one before.
        @inlinable public func after(_ node: Int) -> Int { Int(nodes[node].next) }

        /// The text of the string at `node`.
        public func string(_ node: Int) -> String {
            let n = nodes[node]
            let p = base + Int(n.start)
            if n.flags & JSONTape.escaped == 0 {
                // Validated by the scan: decoding repairs nothing.
                return String(
                    decoding: UnsafeBufferPointer(start: p + 1, count: Int(n.end - n.start) - 2), as: UTF8.self)
            }
            guard
                case .string(let s)? = try? JSONParser.parse(
                    UnsafeRawBufferPointer(start: p, count: Int(n.end - n.start)))
            else { return "" }
            return s
        }

        /// The value at `node`, equal to what ``JSONParser`` makes of the same bytes.
        public func value(_ node: Int) -> JSONValue {
            let n = nodes[node]
            switch n.kind {
            case Kind.null: return .null
            case Kind.false: return .bool(false)
            case Kind.true: return .bool(true)
            case Kind.string: return .string(string(node))
            case Kind.number:
                let p = base + Int(n.start)
                return .number(
                    JSONNumber(
                        literal: String(
                            decoding: UnsafeBufferPointer(start: p, count: Int(n.end - n.start)), as: UTF8.self)))
            default:
                let p = base + Int(n.start)
                return (try? JSONParser.parse(UnsafeRawBufferPointer(start: p, count: Int(n.end - n.start)))) ?? .null
            }
        }
    }

    // MARK: - Scanner

    struct Scanner {
        var nodes: UnsafeMutablePointer<Node>
        var capacity: Int
        var count = 0
        var members: UnsafeMutablePointer<Member>
        var memberCapacity: Int
        var memberCount = 0
        let p: UnsafePointer<UInt8>
        let n: Int
        let maxDepth: Int
        var i = 0

        init(
            nodes: UnsafeMutablePointer<Node>, capacity: Int, members: UnsafeMutablePointer<Member>,
            memberCapacity: Int, p: UnsafePointer<UInt8>, n: Int, maxDepth: Int
        ) {
            self.nodes = nodes
            self.capacity = capacity
            self.members = members
            self.memberCapacity = memberCapacity
            self.p = p
            self.n = n
            self.maxDepth = maxDepth
        }

        /// Lists the members of the object at `index`, just closed, in the member table.
        mutating func indexMembers(_ index: Int) {
            let first = memberCount
            var k = index + 1
            while k < count {
                if memberCount == memberCapacity {
                    let bigger = UnsafeMutablePointer<Member>.allocate(capacity: memberCapacity * 2)
                    bigger.moveInitialize(from: members, count: memberCount)
                    members.deallocate()
                    members = bigger
                    memberCapacity *= 2
                }
                let key = nodes[k]
                let signature: UInt64
                if key.flags != 0 {
                    signature = JSONTape.irregular
                } else if Int(key.start) + 9 <= n {
                    // One load: the quote's successor and 7 more bytes are inside the buffer.
                    let length = Int(key.end - key.start) - 2
                    let w = UInt64(
                        littleEndian: UnsafeRawPointer(p + Int(key.start) + 1).loadUnaligned(as: UInt64.self))
                    let mask = (UInt64(1) << UInt64(8 * min(length, 7))) &- 1
                    signature = (w & mask) | UInt64(truncatingIfNeeded: min(length, 255)) << 56
                } else {
                    signature = JSONTape.signature(p + Int(key.start) + 1, Int(key.end - key.start) - 2)
                }
                members[memberCount] = Member(signature: signature, key: Int32(truncatingIfNeeded: k))
                memberCount += 1
                k = Int(nodes[k + 1].next)
            }
            nodes[index].members = Int32(truncatingIfNeeded: first)
            nodes[index].memberCount = Int32(truncatingIfNeeded: memberCount - first)
        }

        mutating func grow() {
            let bigger = UnsafeMutablePointer<Node>.allocate(capacity: capacity * 2)
            bigger.moveInitialize(from: nodes, count: count)
            nodes.deallocate()
            nodes = bigger
            capacity *= 2
        }

        @inline(__always)
        mutating func skipWhitespace() {
            while i < n {
                switch p[i] {
                case 0x20, 0x0A, 0x0D, 0x09: i += 1
                default: return
                }
            }
        }

        @inline(__always)
        mutating func push(_ kind: UInt8, start: Int, end: Int, flags: UInt8 = 0) -> Int {
            if count == capacity { grow() }
            let index = count
            nodes[index] = Node(
                start: Int32(truncatingIfNeeded: start), end: Int32(truncatingIfNeeded: end),
                next: Int32(truncatingIfNeeded: index + 1), kind: kind, flags: flags)
            count = index + 1
            return index
        }

        @inline(__always)
        func close(_ index: Int, end: Int) {
            nodes[index].end = Int32(truncatingIfNeeded: end)
            nodes[index].next = Int32(truncatingIfNeeded: count)
        }

        mutating func value(depth: Int) -> Bool {
            guard i < n else { return false }
            switch p[i] {
            case UInt8(ascii: "{"): return object(depth: depth + 1)
            case UInt8(ascii: "["): return array(depth: depth + 1)
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "t"): return literal(0x74_72_75_65, 4, Kind.true)  // true
            case UInt8(ascii: "f"): return literal5()
            case UInt8(ascii: "n"): return literal(0x6E_75_6C_6C, 4, Kind.null)  // null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
            default: return false
            }
        }

        mutating func literal(_ word: UInt32, _ count: Int, _ kind: UInt8) -> Bool {
            guard i + count <= n else { return false }
            let w = UInt32(p[i]) << 24 | UInt32(p[i + 1]) << 16 | UInt32(p[i + 2]) << 8 | UInt32(p[i + 3])
            guard w == word else { return false }
            _ = push(kind, start: i, end: i + count)
            i += count
            return true
        }

        mutating func literal5() -> Bool {
            guard i + 5 <= n, p[i + 1] == UInt8(ascii: "a"), p[i + 2] == UInt8(ascii: "l"),
                p[i + 3] == UInt8(ascii: "s"), p[i + 4] == UInt8(ascii: "e")
            else { return false }
            _ = push(Kind.false, start: i, end: i + 5)
            i += 5
            return true
        }

        mutating func object(depth: Int) -> Bool {
            guard depth <= maxDepth else { return false }
            let me = push(Kind.object, start: i, end: i)
            i += 1
            skipWhitespace()
            if i < n, p[i] == UInt8(ascii: "}") {
                i += 1
                close(me, end: i)
                nodes[me].members = Int32(truncatingIfNeeded: memberCount)
                return true
            }
            while true {
                skipWhitespace()
                guard i < n, p[i] == UInt8(ascii: "\"") else { return false }
                guard string() else { return false }
                skipWhitespace()
                guard i < n, p[i] == UInt8(ascii: ":") else { return false }
                i += 1
                skipWhitespace()
                guard value(depth: depth) else { return false }
                skipWhitespace()
                guard i < n else { return false }
                switch p[i] {
                case UInt8(ascii: ","): i += 1
                case UInt8(ascii: "}"):
                    i += 1
                    close(me, end: i)
                    indexMembers(me)
                    return true
                default: return false
                }
            }
        }

        mutating func array(depth: Int) -> Bool {
            guard depth <= maxDepth else { return false }
            let me = push(Kind.array, start: i, end: i)
            i += 1
            skipWhitespace()
            if i < n, p[i] == UInt8(ascii: "]") {
                i += 1
                close(me, end: i)
                return true
            }
            while true {
                skipWhitespace()
                guard value(depth: depth) else { return false }
                skipWhitespace()
                guard i < n else { return false }
                switch p[i] {
                case UInt8(ascii: ","): i += 1
                case UInt8(ascii: "]"):
                    i += 1
                    close(me, end: i)
                    return true
                default: return false
                }
            }
        }

        @inline(__always)
        func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

        mutating func number() -> Bool {
            let start = i
            if p[i] == UInt8(ascii: "-") { i += 1 }
            guard i < n else { return false }
            if p[i] == UInt8(ascii: "0") {
                i += 1
            } else if isDigit(p[i]) {
                while i < n, isDigit(p[i]) { i += 1 }
            } else {
                return false
            }
            if i < n, p[i] == UInt8(ascii: ".") {
                i += 1
                guard i < n, isDigit(p[i]) else { return false }
                while i < n, isDigit(p[i]) { i += 1 }
            }
            if i < n, p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E") {
                i += 1
                if i < n, p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-") { i += 1 }
                guard i < n, isDigit(p[i]) else { return false }
                while i < n, isDigit(p[i]) { i += 1 }
            }
            _ = push(Kind.number, start: start, end: i)
            return true
        }

        /// A string token: control characters rejected, escapes checked as the parser decodes them, UTF-8
        /// validated sequence by sequence (an escape never splits a sequence, so this equals validating the
        /// decoded text).
        mutating func string() -> Bool {
            let start = i
            i += 1
            var flags: UInt8 = 0
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            while true {
                // Eight plain bytes at a time: none a quote, backslash, control character or non-ASCII.
                while i + 8 <= n {
                    let w = UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
                    let q = w ^ (ones &* 0x22)
                    let b = w ^ (ones &* 0x5C)
                    let t = (((q &- ones) & ~q) | ((b &- ones) & ~b) | (w &- ones &* 0x20) | w) & highs
                    if t != 0 {
                        // The lowest flagged byte is the first special one (borrows only run upwards).
                        i += t.trailingZeroBitCount >> 3
                        break
                    }
                    i += 8
                }
                guard i < n else { return false }
                let c = p[i]
                if c == UInt8(ascii: "\"") {
                    i += 1
                    _ = push(Kind.string, start: start, end: i, flags: flags)
                    return true
                } else if c == UInt8(ascii: "\\") {
                    flags |= JSONTape.escaped
                    guard escape() else { return false }
                } else if c < 0x20 {
                    return false
                } else if c >= 0x80 {
                    flags |= JSONTape.nonASCII
                    guard utf8Sequence() else { return false }
                } else {
                    i += 1
                }
            }
        }

        @inline(__always)
        func isContinuation(_ b: UInt8) -> Bool { b & 0xC0 == 0x80 }

        /// One multi-byte UTF-8 sequence at `i` (Unicode Table 3-7: no overlongs, surrogates or values past
        /// U+10FFFF).
        mutating func utf8Sequence() -> Bool {
            let b0 = p[i]
            if b0 < 0xC2 { return false }
            if b0 < 0xE0 {
                guard i + 1 < n, isContinuation(p[i + 1]) else { return false }
                i += 2
                return true
            }
            if b0 < 0xF0 {
                guard i + 2 < n else { return false }
                let b1 = p[i + 1]
                let lo: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80
                let hi: UInt8 = b0 == 0xED ? 0x9F : 0xBF
                guard b1 >= lo, b1 <= hi, isContinuation(p[i + 2]) else { return false }
                i += 3
                return true
            }
            if b0 < 0xF5 {
                guard i + 3 < n else { return false }
                let b1 = p[i + 1]
                let lo: UInt8 = b0 == 0xF0 ? 0x90 : 0x80
                let hi: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF
                guard b1 >= lo, b1 <= hi, isContinuation(p[i + 2]), isContinuation(p[i + 3]) else { return false }
                i += 4
                return true
            }
            return false
        }

        /// An escape at `i` (the backslash), with the parser's rules for `\u` and surrogate pairs.
        mutating func escape() -> Bool {
            i += 1
            guard i < n else { return false }
            let c = p[i]
            i += 1
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                return true
            case UInt8(ascii: "u"):
                guard let scalar = hex4() else { return false }
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    guard i + 1 < n, p[i] == UInt8(ascii: "\\"), p[i + 1] == UInt8(ascii: "u") else { return false }
                    i += 2
                    guard let low = hex4(), low >= 0xDC00 && low < 0xE000 else { return false }
                    return true
                }
                return !(scalar >= 0xDC00 && scalar < 0xE000)
            default:
                return false
            }
        }

        mutating func hex4() -> UInt32? {
            guard i + 4 <= n else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let b = p[i]
                let digit: UInt32
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
                default: return nil
                }
                value = value << 4 | digit
                i += 1
            }
            return value
        }
    }
}
