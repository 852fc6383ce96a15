import JSON
import PinnedMemory

/// A precompiled location inside a log record: `user.id`, `items[0].sku`, `headers["x-request-id"]`.
///
/// Paths are parsed once at start-up so that resolving one on the hot path is a short walk over an array of
/// components, with no string scanning per record.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    enum Component: Sendable, Hashable {
        case member(String)
        case index(Int)
    }

    let components: [Component]
    /// The path as written in the configuration, for messages.
    public let description: String
    /// The components in a form walked without reference counting, for lookups on a ``JSONTape``.
    let steps: Steps
    /// Set for a path under the reserved root `$meta`: it reads where the line came from, not the record.
    public let meta: MetaField?

    init(components: [Component], description: String, meta: MetaField? = nil) {
        self.components = components
        self.description = description
        self.meta = meta
        steps = Steps(components)
    }

    /// The steps, and the member names as UTF-8, in pinned memory owned by the path (see ``PinnedArena``).
    struct Steps: Sendable {
        struct Step {
            /// The member name's UTF-8 (never `nil` for a member, even an empty name); `nil` for an index.
            var key: UnsafePointer<UInt8>?
            var count: Int
            var index: Int
            /// Byte comparison equals `String` comparison only when both names are ASCII.
            var ascii: Bool
            /// The name's ``JSONTape/signature(_:_:)``.
            var signature: UInt64 = 0
        }

        /// Keeps ``table`` and the names it points at alive.
        private let memory: PinnedArena.Sealed
        let table: PinnedBuffer<Step>

        init(_ components: [Component]) {
            var names = 0
            for case .member(let key) in components { names += key.utf8.count }
            let arena = PinnedArena(capacity: MemoryLayout<Step>.stride * components.count + names + 16)
            var steps: [Step] = []
            steps.reserveCapacity(components.count)
            for c in components {
                switch c {
                case .member(let key):
                    let name = arena.pin(Array(key.utf8))
                    steps.append(
                        Step(
                            key: name.baseAddress, count: name.count, index: 0,
                            ascii: name.allSatisfy { $0 < 0x80 },
                            signature: JSONTape.signature(name.baseAddress!, name.count)))
                case .index(let n):
                    steps.append(Step(key: nil, count: 0, index: n, ascii: true))
                }
            }
            table = PinnedBuffer(arena.pin(steps))
            memory = arena.seal()
        }

        var count: Int { table.count }
    }

    public static func == (a: FieldPath, b: FieldPath) -> Bool {
        a.components == b.components && a.description == b.description
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(components)
        hasher.combine(description)
    }

    /// Parses `text`; returns a message saying what is wrong when it is not a valid path.
    public static func parse(_ text: String) -> Result<FieldPath, PathError> {
        var parser = Parser(bytes: Array(text.utf8))
        do throws(PathError) {
            let components = try parser.parse()
            guard text.hasPrefix(MetaField.root), case .member(MetaField.root)? = components.first else {
                return .success(FieldPath(components: components, description: text))
            }
            let names = MetaField.allCases.map(\.name).joined(separator: ", ")
            guard components.count == 2, case .member(let name) = components[1],
                let field = MetaField.allCases.first(where: { $0.name == name })
            else {
                throw PathError(
                    message: "invalid path: \(MetaField.root) is reserved for where a line came from; use "
                        + "\(MetaField.root).<field> with one of \(names) (quote a record member of that name as [\"\(MetaField.root)\"])"
                )
            }
            return .success(FieldPath(components: components, description: text, meta: field))
        } catch {
            return .failure(error)
        }
    }

    /// The value at this path, or `nil` when any step is missing, null, or of the wrong kind.
    @inline(__always)
    func resolve(in root: JSONValue) -> JSONValue? {
        Self.resolve(raw, in: root)
    }

    /// ``resolve(in:)`` over the path's raw steps.
    @inline(__always)
    static func resolve(_ path: Raw, in root: JSONValue) -> JSONValue? {
        if path.meta != 0 { return nil }  // only a ``MetaRecord`` answers these
        var current = root
        for c in 0..<path.count {
            let step = path.steps[c]
            if step.key != nil {
                guard case .object(let object) = current, let next = member(object, step) else { return nil }
                current = next
            } else {
                guard case .array(let array) = current, step.index < array.count else { return nil }
                current = array[step.index]
            }
        }
        if case .null = current { return nil }
        return current
    }

    /// `object[name]`: the last member whose name equals the step's as a `String`, skipping most unequal names
    /// without a full comparison: when both names start (or end) with ASCII bytes that differ, they cannot be
    /// canonically equivalent, since an ASCII character neither decomposes nor reorders.
    @inline(__always)
    static func member(_ object: JSONObject, _ step: Steps.Step) -> JSONValue? {
        let members = object.members
        guard let name = step.key, step.count > 0 else { return object[""] }
        let first = name[0]
        let last = name[step.count - 1]
        var key: String?
        var i = members.count - 1
        while i >= 0 {
            let candidate = members[i].key.utf8
            if let f = candidate.first, f < 0x80, first < 0x80, f != first {
                i -= 1
                continue
            }
            if let l = candidate.last, l < 0x80, last < 0x80, l != last {
                i -= 1
                continue
            }
            if key == nil { key = String(decoding: UnsafeBufferPointer(start: name, count: step.count), as: UTF8.self) }
            if members[i].key == key! { return members[i].value }
            i -= 1
        }
        return nil
    }

    /// The node at this path in a scanned line, or `nil` as ``resolve(in:)`` would answer (null counts as
    /// missing).
    @inline(__always)
    func resolve(in tape: JSONTape.Document) -> Int? {
        Self.resolve(raw, in: tape)
    }

    /// The steps of a path as plain memory (no reference counting on the hot path), valid while the path is.
    struct Raw {
        let steps: UnsafePointer<Steps.Step>
        let count: Int
        /// The ``MetaField`` raw value of a `$meta` path, 0 for a path into the record.
        let meta: UInt8
    }

    var raw: Raw { Raw(steps: steps.table.buffer.baseAddress!, count: steps.count, meta: meta?.rawValue ?? 0) }

    @inline(__always)
    static func resolve(_ path: Raw, in tape: JSONTape.Document) -> Int? {
        if path.meta != 0 { return nil }  // only a ``MetaRecord`` answers these
        var current = tape.root
        for c in 0..<path.count {
            let step = path.steps[c]
            if let key = step.key {
                let name = UnsafeBufferPointer(start: key, count: step.count)
                let found = tape.member(
                    of: current, key: name, signature: step.signature, keyIsASCII: step.ascii,
                    keyString: String(decoding: name, as: UTF8.self))
                guard let found else { return nil }
                current = found
            } else {
                guard let next = tape.element(of: current, at: step.index) else { return nil }
                current = next
            }
        }
        if tape.kind(current) == JSONTape.Kind.null { return nil }
        return current
    }

    /// Why a path could not be parsed.
    public struct PathError: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    // MARK: - Parser

    private struct Parser {
        let bytes: [UInt8]
        var i = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        func fail(_ message: String) -> PathError {
            PathError(message: "invalid path: \(message)")
        }

        mutating func parse() throws(PathError) -> [Component] {
            guard !bytes.isEmpty else { throw fail("it is empty") }
            var out: [Component] = []
            var expectName = true
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "[") {
                    out.append(try bracket())
                    expectName = false
                } else if b == UInt8(ascii: ".") {
                    if expectName { throw fail("empty member name at character \(i + 1)") }
                    i += 1
                    expectName = true
                    if i == bytes.count { throw fail("it ends with '.'") }
                } else {
                    if !expectName { throw fail("expected '.' or '[' at character \(i + 1)") }
                    let start = i
                    while i < bytes.count, bytes[i] != UInt8(ascii: "."), bytes[i] != UInt8(ascii: "[") {
                        if bytes[i] == UInt8(ascii: "]") || bytes[i] == UInt8(ascii: "\"") {
                            throw fail(
                                "unexpected '\(Character(UnicodeScalar(bytes[i])))' at character \(i + 1); quote such names as [\"name\"]"
                            )
                        }
                        i += 1
                    }
                    out.append(.member(String(decoding: bytes[start..<i], as: UTF8.self)))
                    expectName = false
                }
            }
            return out
        }

        mutating func bracket() throws(PathError) -> Component {
            i += 1  // [
            guard i < bytes.count else { throw fail("unterminated '['") }
            if bytes[i] == UInt8(ascii: "\"") {
                // A quoted name: JSON string syntax, so escapes work as in the log itself.
                var j = i + 1
                while j < bytes.count, bytes[j] != UInt8(ascii: "\"") {
                    j += bytes[j] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard j < bytes.count, j + 1 < bytes.count, bytes[j + 1] == UInt8(ascii: "]") else {
                    throw fail("a quoted name must look like [\"name\"]")
                }
                guard case .string(let name)? = try? JSONParser.parse(bytes[i...j]) else {
                    throw fail("invalid quoted name")
                }
                i = j + 2
                return .member(name)
            }
            var value = 0
            let start = i
            while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
                value = value &* 10 &+ Int(bytes[i] - UInt8(ascii: "0"))
                if value > 1_000_000 { throw fail("index too large") }
                i += 1
            }
            guard i > start, i < bytes.count, bytes[i] == UInt8(ascii: "]") else {
                throw fail("expected a non-negative index or a quoted name inside [...]")
            }
            i += 1
            return .index(value)
        }
    }
}
