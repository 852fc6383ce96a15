import JSON
import PersonalizeModel

extension CompiledMapping {
    static let mappingKeys = [
        "target", "trackingId", "datasetArn", "sources", "when", "fields", "session",
        "impressionOverflow",
    ]

    /// Parses one member of `mappings`, reporting every problem into `reader`.
    static func parse(name: String, value: JSONValue, reader: ConfigReader, path: String, sourceNames: [String])
        -> CompiledMapping?
    {
        guard let o = reader.object(value, at: path) else { return nil }
        defer { o.finish(mappingKeys) }
        let targets = Target.allCases.map(\.rawValue)
        let hint = "use one of \(targets.map { "\"\($0)\"" }.joined(separator: ", "))"
        guard let targetName = o.string("target", required: true, hint: hint) else { return nil }
        guard let target = Target(rawValue: targetName) else {
            reader.report(o.path("target"), "unknown target \"\(targetName)\"; \(hint)")
            return nil
        }
        var m = CompiledMapping(name: name, target: target)
        m.parseDestination(o, reader: reader)
        if let sources = o.strings("sources") {
            for (i, s) in sources.enumerated() where !sourceNames.contains(s) {
                let known =
                    sourceNames.isEmpty
                    ? "none are configured"
                    : "configured sources are \(sourceNames.map { "\"\($0)\"" }.joined(separator: ", "))"
                reader.report(ConfigReader.index(o.path("sources"), i), "unknown source \"\(s)\"; \(known)")
            }
            m.sources = sources
        }
        if let when = o.value("when") { m.when = Condition.parse(when, reader: reader, path: o.path("when")) }
        if let fields = o.object("fields") {
            m.parseFields(fields, reader: reader)
        } else if !o.has("fields") {
            reader.report(
                o.path("fields"), "is required; map at least \(target.required.map(\.rawValue).joined(separator: ", "))"
            )
        }
        m.parseOptions(o, reader: reader)
        m.checkRequired(o, reader: reader)
        return m
    }

    private mutating func parseDestination(_ o: ConfigReader.ObjectReader, reader: ConfigReader) {
        if let t = o.string("trackingId") {
            if target.usesDataset {
                reader.report(o.path("trackingId"), "\(target.rawValue) mappings send to a dataset; use datasetArn")
            } else {
                FieldRule.checkLength(t, field: .trackingId, reader: reader, path: o.path("trackingId"))
                trackingId = t
            }
        }
        let arnHint = "such as \"arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS\""
        if let arn = o.string("datasetArn") {
            if !target.usesDataset {
                reader.report(
                    o.path("datasetArn"), "\(target.rawValue) mappings send to an event tracker; use trackingId")
            } else if !Limits.isDatasetArn(arn) || Limits.length(arn) > Limits.datasetArnLength {
                reader.report(o.path("datasetArn"), "is not a Personalize dataset ARN; expected one \(arnHint)")
            } else {
                datasetArn = arn
            }
        } else if target.usesDataset, !o.has("datasetArn") {
            reader.report(o.path("datasetArn"), "is required for \(target.rawValue) mappings; give the ARN \(arnHint)")
        }
    }

    private mutating func parseFields(_ fields: ConfigReader.ObjectReader, reader: ConfigReader) {
        let allowed = target.allowed
        var eventIdOptOut = false
        for member in fields.object {
            guard let field = WireField(rawValue: member.key) else { continue }  // finish() reports it
            let path = fields.path(member.key)
            _ = fields.value(member.key)
            guard allowed.contains(field) else {
                reader.report(
                    path,
                    "is not a field of \(target.rawValue) records; they take "
                        + allowed.map(\.rawValue).joined(separator: ", "))
                continue
            }
            if field == .trackingId, trackingId != nil {
                reader.report(path, "trackingId is also set at the top of the mapping; keep one of them")
                continue
            }
            if member.value.isNull { continue }
            if field == .eventId, case .object(let rule) = member.value, rule["derive"]?.boolValue == false {
                if rule.count != 1 {
                    reader.report(path, "{\"derive\": false} sends no eventId and takes no other keys; remove them")
                }
                eventIdOptOut = true
                continue
            }
            if field == .properties {
                parseProperties(member.value, reader: reader, path: path)
            } else {
                let required = target.required.contains(field)
                self[field] = FieldRule.parse(
                    member.value, field: field, required: required, reader: reader, path: path)
            }
        }
        fields.finish(allowed.map(\.rawValue))
        // Events and action interactions get a derived id unless the mapping names one or opts out: with stable
        // ids, a record the agent sends twice (a crash window, an answer lost) is used once in training.
        if allowed.contains(.eventId), self[.eventId] == nil, !eventIdOptOut, fields.object["eventId"] == nil {
            self[.eventId] = FieldRule(source: .derive)
        }
    }

    private mutating func parseProperties(_ value: JSONValue, reader: ConfigReader, path: String) {
        guard let o = reader.object(value, at: path) else { return }
        var seen: [String: String] = [:]
        for member in o.object {
            _ = o.value(member.key)
            let memberPath = o.path(member.key)
            let key = PropertyName.camelCase(member.key)
            if key.isEmpty {
                reader.report(memberPath, "a property name must contain a letter or digit")
                continue
            }
            if target == .event, Limits.reservedEventPropertyKeys.contains(key.lowercased()) {
                reader.report(
                    memberPath, "\"\(key)\" is reserved for events; map it as a field, or rename the property")
                continue
            }
            if let other = seen[key] {
                reader.report(memberPath, "becomes \"\(key)\", as \"\(other)\" does; rename one of them")
                continue
            }
            seen[key] = member.key
            if let rule = FieldRule.parse(member.value, field: nil, required: false, reader: reader, path: memberPath) {
                properties.append(Property(key: key, rule: rule))
            }
        }
        o.finish()
    }

    private mutating func parseOptions(_ o: ConfigReader.ObjectReader, reader: ConfigReader) {
        let hasImpressions = target == .event || target == .actionInteraction
        if let session = o.object("session") {
            let gap = session.int("gapMinutes", min: 1, max: 7 * 24 * 60) ?? SessionSettings.defaultGapMinutes
            let users = session.int("maxUsers", min: 1, max: 10_000_000) ?? SessionSettings.defaultMaxUsers
            session.finish()
            if hasImpressions {
                self.session = SessionSettings(gapMinutes: gap, maxUsers: users)
            } else {
                reader.report(o.path("session"), "only event and actionInteraction mappings have sessions")
            }
        }
        if let overflow = o.choice("impressionOverflow", ["truncate", "deadLetter"]) {
            if hasImpressions {
                impressionOverflow = ImpressionOverflow(rawValue: overflow) ?? .deadLetter
            } else {
                reader.report(
                    o.path("impressionOverflow"), "only event and actionInteraction mappings have impressions")
            }
        }
    }

    private func checkRequired(_ o: ConfigReader.ObjectReader, reader: ConfigReader) {
        guard o.has("fields") else { return }
        var missing: [String] = []
        for field in target.required where self[field] == nil {
            if field == .trackingId, trackingId != nil || o.has("trackingId") { continue }
            if field == .sessionId, session != nil { continue }
            if o.object["fields"]?[field.rawValue] != nil { continue }  // present but invalid: already reported
            missing.append(field == .sessionId ? "sessionId (or \"session\" to sessionize)" : field.rawValue)
        }
        if !missing.isEmpty {
            reader.report(
                o.path("fields"),
                "\(target.rawValue) mappings must map \(missing.joined(separator: ", "))")
        }
    }
}
