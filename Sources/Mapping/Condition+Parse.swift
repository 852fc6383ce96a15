import JSON

extension Condition {
    static let kinds = ["equals", "in", "exists", "matches", "not", "all", "any"]

    /// Parses a `when` object, reporting every problem with its path.
    static func parse(_ value: JSONValue, reader: ConfigReader, path: String, depth: Int = 0) -> Condition {
        guard depth < 32 else {
            reader.report(path, "conditions nest too deeply")
            return .always
        }
        guard let o = reader.object(value, at: path) else { return .always }
        let present = kinds.filter { o.has($0) }
        guard present.count == 1, let kind = present.first else {
            let list = kinds.map { "\"\($0)\"" }.joined(separator: ", ")
            reader.report(
                path,
                present.isEmpty
                    ? "a condition needs one of \(list)"
                    : "a condition takes only one of \(list), found \(present.map { "\"\($0)\"" }.joined(separator: " and "))"
            )
            for k in kinds { _ = o.value(k) }
            _ = o.value("field")
            o.finish()
            return .always
        }
        var result = Condition.always
        switch kind {
        case "not":
            if let v = o.value("not") { result = .not(parse(v, reader: reader, path: o.path("not"), depth: depth + 1)) }
        case "all", "any":
            if let list = o.array(kind) {
                let cs = list.enumerated().map {
                    parse(
                        $0.element, reader: reader, path: ConfigReader.index(o.path(kind), $0.offset), depth: depth + 1)
                }
                if cs.isEmpty { reader.report(o.path(kind), "must list at least one condition") }
                result = kind == "all" ? .all(cs) : .any(cs)
            }
        default:
            guard let field = fieldPath(o, reader: reader, path: path) else {
                for k in kinds { _ = o.value(k) }
                o.finish()
                return .always
            }
            switch kind {
            case "equals":
                result = .equals(field, o.value("equals") ?? .null)
            case "in":
                if let list = o.array("in") { result = .oneOf(field, list) }
            case "exists":
                if let b = o.bool("exists") { result = .exists(field, b) }
            default:  // matches
                if let pattern = o.string("matches") {
                    do {
                        result = .matches(field, try CompiledRegex(pattern: pattern))
                    } catch {
                        reader.report(o.path("matches"), "invalid regular expression: \(error)")
                    }
                }
            }
        }
        o.finish()
        return result
    }

    private static func fieldPath(_ o: ConfigReader.ObjectReader, reader: ConfigReader, path: String) -> FieldPath? {
        guard let text = o.string("field", required: true, hint: "name the record field the condition tests") else {
            return nil
        }
        switch FieldPath.parse(text) {
        case .success(let p): return p
        case .failure(let e):
            reader.report(o.path("field"), e.message)
            return nil
        }
    }
}
