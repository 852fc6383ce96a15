import JSON

/// The validated `mappings` of config.json, in evaluation order. Built once at start-up and shared freely.
public struct MappingSet: Sendable {
    let mappings: [CompiledMapping]

    /// What the pipeline does with a record that no mapping matched.
    public var unmatched: UnmatchedPolicy

    /// The mapping names, in evaluation (document) order.
    public var names: [String] { mappings.map(\.name) }

    /// Whether some mapping derives session ids (sessionization): its results then depend on the order records are
    /// mapped in, so records must be mapped one after the other.
    public var sessionizes: Bool { mappings.contains { $0.sessionizes } }

    /// The Personalize record kind each mapping produces, by name (for `explain` and metrics).
    public var targets: [String: Target] {
        Dictionary(mappings.map { ($0.name, $0.target) }, uniquingKeysWith: { a, _ in a })
    }

    /// Parses the `mappings` object of config.json.
    ///
    /// Every problem goes into `reader` with its JSON path (`mappings.clicks.fields.sentAt.format: unknown
    /// format "isoo8601"; use one of ...`); parsing carries on so that one run reports them all. The result is only
    /// meaningful when `reader` has no issues. `sourceNames` are the configured source names, which `sources`
    /// must refer to; `unmatched` is the top-level policy (see ``UnmatchedPolicy/parse(_:reader:path:)``).
    public static func parse(
        _ value: JSONValue?, reader: ConfigReader, path: String = "mappings", sourceNames: [String],
        unmatched: UnmatchedPolicy = .skip
    ) -> MappingSet {
        var out: [CompiledMapping] = []
        guard let value, !value.isNull else {
            reader.report(path, "is required; define at least one mapping")
            return MappingSet(mappings: [], unmatched: unmatched)
        }
        guard let o = reader.object(value, at: path) else { return MappingSet(mappings: [], unmatched: unmatched) }
        if o.object.isEmpty { reader.report(path, "define at least one mapping") }
        var names: Set<String> = []
        for member in o.object {
            let memberPath = o.path(member.key)
            _ = o.value(member.key)
            guard names.insert(member.key).inserted else {
                reader.report(memberPath, "is defined twice; mapping names must be unique")
                continue
            }
            if member.key.isEmpty { reader.report(memberPath, "a mapping needs a non-empty name") }
            if let m = CompiledMapping.parse(
                name: member.key, value: member.value, reader: reader, path: memberPath, sourceNames: sourceNames)
            {
                out.append(m)
            }
        }
        return MappingSet(mappings: out, unmatched: unmatched)
    }

    /// Parses `mappings` and throws every problem at once; convenient for tests and tools.
    public static func parse(_ json: String, sourceNames: [String] = [], unmatched: UnmatchedPolicy = .skip)
        throws -> MappingSet
    {
        let reader = ConfigReader()
        let set = parse(try JSONParser.parse(json), reader: reader, sourceNames: sourceNames, unmatched: unmatched)
        try reader.throwIfIssues()
        return set
    }
}
