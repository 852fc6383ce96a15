import JSON
import PersonalizeModel

extension FieldRule {
    static let sourceKeys = ["path", "paths", "const", "template", "derive"]

    /// Parses one rule: a path string, or an object with exactly one source key plus options.
    /// `field` is `nil` for a member of `properties`.
    static func parse(_ value: JSONValue, field: WireField?, required: Bool, reader: ConfigReader, path: String)
        -> FieldRule?
    {
        if case .string(let text) = value {
            return compilePath(text, reader: reader, path: path).map { FieldRule(source: .paths([$0])) }
        }
        guard let o = reader.object(value, at: path) else { return nil }
        defer { o.finish() }
        let present = sourceKeys.filter { o.has($0) }
        guard present.count == 1, let key = present.first else {
            let list = sourceKeys.map { "\"\($0)\"" }.joined(separator: ", ")
            reader.report(
                path,
                present.isEmpty
                    ? "a rule needs one of \(list)"
                    : "a rule takes only one of \(list), found \(present.map { "\"\($0)\"" }.joined(separator: " and "))"
            )
            for k in sourceKeys { _ = o.value(k) }
            return nil
        }
        var source: Source?
        switch key {
        case "path":
            if let text = o.string("path", required: true) {
                source = compilePath(text, reader: reader, path: o.path("path")).map { .paths([$0]) }
            }
        case "paths":
            if let texts = o.strings("paths") {
                if texts.isEmpty { reader.report(o.path("paths"), "must list at least one path") }
                let compiled = texts.enumerated().compactMap {
                    compilePath($0.element, reader: reader, path: ConfigReader.index(o.path("paths"), $0.offset))
                }
                if compiled.count == texts.count, !compiled.isEmpty { source = .paths(compiled) }
            }
        case "const":
            if let v = o.value("const") {
                source = .constant(v)
                checkConstant(v, field: field, reader: reader, path: o.path("const"))
            } else {
                reader.report(o.path("const"), "must not be null; leave the field out instead")
            }
        case "template":
            if let text = o.string("template", required: true) {
                switch Template.parse(text) {
                case .success(let t): source = .template(t)
                case .failure(let e): reader.report(o.path("template"), e.message)
                }
            }
        default:  // derive
            if field != .eventId {
                reader.report(o.path("derive"), "only eventId can be derived")
                _ = o.value("derive")
            } else if o.bool("derive") == true {
                source = .derive
            } else {
                reader.report(o.path("derive"), "must be true (derive an id) or false on its own (send no eventId)")
            }
        }
        let defaultValue = o.value("default")
        if let d = defaultValue { checkConstant(d, field: field, reader: reader, path: o.path("default")) }
        var transforms: [Transform] = []
        if let steps = o.value("transform") {
            transforms = Transform.parseList(steps, reader: reader, path: o.path("transform"))
        }
        var time = TimeFormat.default
        let format = o.string("format")
        let zone = o.string("timeZone")
        if format != nil || zone != nil {
            if field?.kind == .time {
                time = TimeFormat.make(format: format, timeZone: zone, reader: reader, path: path)
            } else {
                reader.report(
                    o.path(format != nil ? "format" : "timeZone"),
                    "only time fields (sentAt, timestamp) take a format or time zone")
            }
        }
        if let optional = o.bool("optional"), !optional || required {
            reader.report(
                o.path("optional"),
                required
                    ? "\(field?.rawValue ?? "this field") is required by the API and cannot be optional"
                    : "optional fields are optional already; remove \"optional\"")
        }
        var sessionFallback = false
        if let fallback = o.string("fallback") {
            if field != .sessionId {
                reader.report(o.path("fallback"), "only sessionId takes a fallback")
            } else if fallback != "session" {
                reader.report(o.path("fallback"), "must be \"session\" (sessionize when the record has no session id)")
            } else {
                sessionFallback = true
            }
        }
        guard let source else { return nil }
        let rule = FieldRule(
            source: source, defaultValue: defaultValue, transforms: transforms, time: time,
            sessionFallback: sessionFallback)
        if case .constant(let v) = rule.source, field?.kind == .time {
            if case .failure(let e) = rule.time.read(v) { reader.report(o.path("const"), e.message) }
        }
        return rule
    }

    static func compilePath(_ text: String, reader: ConfigReader, path: String) -> FieldPath? {
        switch FieldPath.parse(text) {
        case .success(let p): return p
        case .failure(let e):
            reader.report(path, "\(e.message) (in \(JSONValue.string(text).serialized))")
            return nil
        }
    }

    /// Reports a constant or default that the API would reject on every record.
    static func checkConstant(_ v: JSONValue, field: WireField?, reader: ConfigReader, path: String) {
        guard let field else {
            if case .object = v { reader.report(path, "a property value must be a string, number, boolean or list") }
            return
        }
        switch field.kind {
        case .id:
            guard let s = Transform.scalarText(v), !(v.boolValue != nil) else {
                reader.report(path, "\(field.rawValue) must be a string, found \(v.typeDescription)")
                return
            }
            checkLength(s, field: field, reader: reader, path: path)
        case .number:
            let ok: Bool
            switch v {
            case .number(let n): ok = n.double.isFinite
            case .string(let s): ok = TimeParsing.isNumberLiteral(s) && (Double(s)?.isFinite ?? false)
            default: ok = false
            }
            if !ok { reader.report(path, "\(field.rawValue) must be a finite number, found \(ValueProblem.show(v))") }
        case .list:
            let ids: [JSONValue] = v.arrayValue ?? [v]
            if ids.count > 25 { reader.report(path, "\(field.rawValue) has \(ids.count) ids, it must have 1 to 25") }
            for (i, id) in ids.enumerated() {
                guard let s = Transform.scalarText(id), id.boolValue == nil else {
                    reader.report(ConfigReader.index(path, i), "must be a string, found \(id.typeDescription)")
                    continue
                }
                checkLength(s, field: field, reader: reader, path: ConfigReader.index(path, i))
            }
        case .time, .properties:
            break
        }
    }

    static func checkLength(_ s: String, field: WireField, reader: ConfigReader, path: String) {
        let n = s.unicodeScalars.count
        if n == 0 { reader.report(path, "\(field.rawValue) must not be empty") }
        if n > field.maxLength {
            reader.report(path, "\(field.rawValue) is \(n) characters, the limit is \(field.maxLength)")
        }
        if field == .metricAttribution, !s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            reader.report(path, "metricAttribution must be printable ASCII")
        } else if field == .metricAttribution, n > 0, !Limits.hasVisibleASCII(s) {
            reader.report(path, "metricAttribution must have a visible character, not only spaces")
        }
    }
}
