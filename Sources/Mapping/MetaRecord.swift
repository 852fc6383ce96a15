import JSON

/// A field of the reserved path root `$meta`: where a line came from rather than what it says.
public enum MetaField: UInt8, Sendable, CaseIterable {
    /// `stdout` or `stderr` (container logs).
    case stream = 1
    /// The container runtime's RFC 3339 time of the line (container logs).
    case time
    /// The pod's namespace, pod name and container name, from the file's path (container logs).
    case namespace
    case pod
    case container
    /// The file's path, and the configured source's name (every file).
    case file
    case source

    static let root = "$meta"

    public var name: String {
        switch self {
        case .stream: "stream"
        case .time: "time"
        case .namespace: "namespace"
        case .pod: "pod"
        case .container: "container"
        case .file: "file"
        case .source: "source"
        }
    }
}

/// What a container runtime said about a line and whose it is: the values of `$meta` beyond the file and source.
public struct RecordMeta: Sendable, Hashable {
    public var namespace: String?
    public var pod: String?
    public var container: String?
    public var stream: String?
    public var time: String?

    public init(
        namespace: String? = nil, pod: String? = nil, container: String? = nil, stream: String? = nil,
        time: String? = nil
    ) {
        self.namespace = namespace
        self.pod = pod
        self.container = container
        self.stream = stream
        self.time = time
    }
}

/// A record seen with its line's context: `$meta` paths answer from `context`, every other path from `base`.
/// Only mappings that read `$meta` see records through it (the others, and the direct encoder, are unchanged).
struct MetaRecord<R: RecordView>: RecordView {
    let base: R
    let context: RecordContext

    func meta(_ raw: UInt8) -> JSONValue? {
        let text: String?
        switch MetaField(rawValue: raw) {
        case .stream?: text = context.meta?.stream
        case .time?: text = context.meta?.time
        case .namespace?: text = context.meta?.namespace
        case .pod?: text = context.meta?.pod
        case .container?: text = context.meta?.container
        case .file?: text = context.path
        case .source?: text = context.sourceName
        case nil: text = nil
        }
        return text.map { .string($0) }
    }

    func value(at path: FieldPath) -> JSONValue? {
        if let field = path.meta { return meta(field.rawValue) }
        return base.value(at: path)
    }

    func has(_ path: FieldPath) -> Bool {
        if let field = path.meta { return meta(field.rawValue) != nil }
        return base.has(path)
    }

    func firstValue(of rule: FieldRule) -> JSONValue? {
        let paths = rule.rawPaths
        guard let raw = paths.base else { return nil }
        for i in 0..<paths.count {
            if raw[i].meta != 0 {
                if let v = meta(raw[i].meta) { return v }
            } else if case .paths(let all) = rule.source, let v = base.value(at: all[i]) {
                return v
            }
        }
        return nil
    }
}

extension CompiledMapping {
    /// Whether any of the mapping's conditions, fields, templates or properties reads a `$meta` path.
    var readsMeta: Bool {
        func rule(_ r: FieldRule?) -> Bool {
            guard let r else { return false }
            switch r.source {
            case .paths(let ps): return ps.contains { $0.meta != nil }
            case .template(let t):
                return t.parts.contains { if case .path(let p) = $0 { p.meta != nil } else { false } }
            case .constant, .derive: return false
            }
        }
        return when.readsMeta || rules.contains(where: rule) || properties.contains { rule($0.rule) }
    }
}

extension Condition {
    var readsMeta: Bool {
        switch self {
        case .always: false
        case .equals(let p, _), .oneOf(let p, _), .exists(let p, _), .matches(let p, _): p.meta != nil
        case .not(let c): c.readsMeta
        case .all(let cs), .any(let cs): cs.contains { $0.readsMeta }
        }
    }
}
