import JSON

extension Transform {
    /// Parses a `transform` setting: a list of steps, or a single step.
    static func parseList(_ value: JSONValue, reader: ConfigReader, path: String) -> [Transform] {
        let steps: [(JSONValue, String)]
        if case .array(let a) = value {
            steps = a.enumerated().map { ($0.element, ConfigReader.index(path, $0.offset)) }
        } else {
            steps = [(value, path)]
        }
        return steps.compactMap { parse($0.0, reader: reader, path: $0.1) }
    }

    static func parse(_ value: JSONValue, reader: ConfigReader, path: String) -> Transform? {
        let known = names.map { "\"\($0)\"" }.joined(separator: ", ")
        if case .string(let name) = value {
            switch name {
            case "lower": return .lower
            case "upper": return .upper
            case "trim": return .trim
            case "string": return .string
            case "number": return .number
            default:
                reader.report(path, "unknown transform \"\(name)\"; use one of \(known)")
                return nil
            }
        }
        guard let o = reader.object(value, at: path) else { return nil }
        defer { o.finish(["lookup", "otherwise", "split", "join"]) }
        if o.has("lookup") {
            guard let table = o.object("lookup") else { return nil }
            var map: [String: String] = [:]
            var valid = true
            for member in table.object {
                guard case .string(let s) = member.value else {
                    reader.report(
                        table.path(member.key),
                        "lookup values must be strings, found \(member.value.typeDescription)")
                    valid = false
                    continue
                }
                map[member.key] = s
            }
            for member in table.object { _ = table.value(member.key) }
            var otherwise = Otherwise.keep
            if let v = o.value("otherwise") {
                switch v {
                case .string("keep"): otherwise = .keep
                case .string("drop"): otherwise = .drop
                case .string(let s): otherwise = .replace(s)
                default:
                    reader.report(
                        o.path("otherwise"),
                        "expected \"keep\", \"drop\" or a replacement string, found \(v.typeDescription)")
                }
            }
            return valid ? .lookup(map, otherwise: otherwise) : nil
        }
        if o.has("split") {
            guard let s = o.string("split", required: true) else { return nil }
            return s.isEmpty ? nil : .split(s)
        }
        if o.has("join") {
            guard let s = o.string("join") else { return nil }
            return .join(s)
        }
        reader.report(path, "unknown transform; use one of \(known)")
        return nil
    }
}
