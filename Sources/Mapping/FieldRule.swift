import JSON
import PinnedMemory

/// How one output field gets its value from a record: where to look, what to do when nothing is there, and how
/// to clean the value up. Everything is compiled at start-up; ``resolve(in:)`` only walks and copies.
/// A final class rather than a struct: the hot path reads rules constantly, and passing a reference costs one
/// retain where copying this struct would retain each of its arrays.
final class FieldRule: Sendable {
    /// The `paths` alternatives as plain memory, for walking a ``JSONTape`` without reference counting. The
    /// steps belong to the paths in ``source``; the table itself to ``pinned``.
    struct RawPaths: Sendable {
        let table: PinnedBuffer<FieldPath.Raw>
        /// `nil` when the rule reads no paths.
        var base: UnsafePointer<FieldPath.Raw>? { table.buffer.count == 0 ? nil : table.buffer.baseAddress }
        var count: Int { table.buffer.count }
    }

    enum Source: Sendable {
        /// Alternatives tried in order; the first present wins (`null` and `""` are absent).
        case paths([FieldPath])
        case constant(JSONValue)
        case template(Template)
        /// A deterministic event id computed by the mapper from the line's identity.
        case derive
    }

    let source: Source
    let defaultValue: JSONValue?
    let transforms: [Transform]
    let time: TimeFormat
    /// For `sessionId`: sessionize when the record carries no session id.
    let sessionFallback: Bool
    let rawPaths: RawPaths
    /// Keeps ``rawPaths``' table alive.
    private let pinned: PinnedArena.Sealed?

    init(
        source: Source, defaultValue: JSONValue? = nil, transforms: [Transform] = [], time: TimeFormat = .default,
        sessionFallback: Bool = false
    ) {
        self.source = source
        self.defaultValue = defaultValue
        self.transforms = transforms
        self.time = time
        self.sessionFallback = sessionFallback
        if case .paths(let paths) = source, !paths.isEmpty {
            let arena = PinnedArena(capacity: MemoryLayout<FieldPath.Raw>.stride * paths.count)
            rawPaths = RawPaths(table: PinnedBuffer(arena.pin(paths.map(\.raw))))
            pinned = arena.seal()
        } else {
            rawPaths = RawPaths(table: PinnedBuffer(UnsafeBufferPointer(start: nil, count: 0)))
            pinned = nil
        }
    }

    /// The value for this field, `nil` when the record has none (after transforms and the default); a value the
    /// transforms cannot take throws (typed: the common path carries no `Result`).
    @inline(__always)
    func value<R: RecordView>(in record: R) throws(ValueProblem) -> JSONValue? {
        var found: JSONValue?
        switch source {
        case .paths: found = record.firstValue(of: self)
        case .constant(let v): found = v
        case .template(let t):
            switch t.render(record) {
            case .success(let s): found = s.map { .string($0) }
            case .failure(let e): throw e
            }
        case .derive: found = nil
        }
        if transforms.isEmpty { return found ?? defaultValue }
        guard var value = found else { return defaultValue }
        for step in transforms {
            switch step.apply(value) {
            case .success(let v?): value = v
            case .success(nil): return defaultValue
            case .failure(let e): throw e
            }
        }
        return value
    }

    /// The paths the rule reads, as a phrase for "required, but ... is absent".
    var sourcePhrase: String {
        switch source {
        case .paths(let ps):
            let names = ps.map(\.description)
            return names.count == 1
                ? "\(names[0]) is" : "\(names.dropLast().joined(separator: ", ")) and \(names.last!) are"
        case .template(let t): return "the template \"\(t.text)\" has a missing part and"
        case .constant: return "the constant is"
        case .derive: return "the derived value is"
        }
    }

    /// The path that produced a value, for messages about the value.
    func sourcePath<R: RecordView>(in record: R) -> String {
        if case .paths(let ps) = source {
            return ps.first(where: { p in record.value(at: p).map { !$0.isEmptyString } ?? false })?.description
                ?? ps[0].description
        }
        if case .template(let t) = source { return "template \"\(t.text)\"" }
        return "the constant"
    }
}

/// A string built from literal text and record values: `"{user.id}:{session}"`. `{{` and `}}` stand for braces.
struct Template: Sendable {
    enum Part: Sendable {
        case literal(String)
        case path(FieldPath)
    }

    let text: String
    let parts: [Part]

    /// The rendered text; `nil` when a referenced value is absent.
    func render<R: RecordView>(_ record: R) -> Result<String?, ValueProblem> {
        var out = ""
        for part in parts {
            switch part {
            case .literal(let s): out += s
            case .path(let p):
                guard let v = record.value(at: p) else { return .success(nil) }
                guard let s = Transform.scalarText(v) else {
                    return .failure(
                        ValueProblem("\(p) in the template is \(v.typeDescription), expected a string or number"))
                }
                out += s
            }
        }
        return .success(out)
    }

    static func parse(_ text: String) -> Result<Template, FieldPath.PathError> {
        var parts: [Part] = []
        var literal = ""
        var scalars = text.unicodeScalars[...]
        while let c = scalars.popFirst() {
            if c == "{" {
                if scalars.first == "{" {
                    scalars.removeFirst()
                    literal.unicodeScalars.append("{")
                    continue
                }
                guard let end = scalars.firstIndex(of: "}") else {
                    return .failure(FieldPath.PathError(message: "unclosed '{' in the template; write {{ for a brace"))
                }
                let inner = String(String.UnicodeScalarView(scalars[..<end]))
                scalars = scalars[scalars.index(after: end)...]
                switch FieldPath.parse(inner) {
                case .success(let p):
                    if !literal.isEmpty { parts.append(.literal(literal)) }
                    literal = ""
                    parts.append(.path(p))
                case .failure(let e): return .failure(e)
                }
            } else if c == "}" {
                guard scalars.first == "}" else {
                    return .failure(FieldPath.PathError(message: "unmatched '}' in the template; write }} for a brace"))
                }
                scalars.removeFirst()
                literal.unicodeScalars.append("}")
            } else {
                literal.unicodeScalars.append(c)
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        guard parts.contains(where: { if case .path = $0 { true } else { false } }) else {
            return .failure(
                FieldPath.PathError(message: "the template references no field; use \"const\" for fixed text"))
        }
        return .success(Template(text: text, parts: parts))
    }
}
