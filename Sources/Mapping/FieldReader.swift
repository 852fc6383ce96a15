import JSON
import PersonalizeModel

/// Reads the output fields of one mapping from one record, converting each value to the type the wire wants and
/// turning every problem into a ``MappingFailure`` that names the field, the path and what was found.
struct FieldReader<R: RecordView> {
    let plan: Mapper.Plan
    let record: R

    @inline(__always)
    var mapping: CompiledMapping { _read { yield plan.m } }

    /// The rule's value, or `nil` when absent; invalid values throw.
    @inline(__always)
    private func value(_ field: WireField, _ rule: FieldRule) throws(MappingFailure) -> JSONValue? {
        do throws(ValueProblem) {
            return try rule.value(in: record)
        } catch {
            throw .invalid(field.rawValue, at: rule.sourcePath(in: record), error)
        }
    }

    /// An id-like string (numbers become their literal digits). Empty strings count as absent.
    func id(_ field: WireField, required: Bool = false) throws(MappingFailure) -> String? {
        guard let rule = mapping[field] else {
            if required { throw .missing(field.rawValue, nil) }
            return nil
        }
        switch try value(field, rule) {
        case .string(let s)?:
            if !s.isEmpty { return s }
            if required {
                throw MappingFailure(
                    field: field.rawValue, reason: "required, but \(rule.sourcePath(in: record)) is empty",
                    kind: .missingField)
            }
            return nil
        case .number(let n)?: return n.literal
        case nil:
            if required { throw .missing(field.rawValue, rule) }
            return nil
        case let other?:
            throw .invalid(
                field.rawValue, at: rule.sourcePath(in: record),
                ValueProblem("expected a string or number, found \(other.typeDescription)"))
        }
    }

    /// A required time field, read with the rule's format.
    func time(_ field: WireField) throws(MappingFailure) -> Timestamp {
        guard let rule = mapping[field] else { throw .missing(field.rawValue, nil) }
        guard let v = try value(field, rule) else { throw .missing(field.rawValue, rule) }
        switch rule.time.read(v) {
        case .success(let ms): return Timestamp(epochMilliseconds: ms)
        case .failure(let problem): throw .invalid(field.rawValue, at: rule.sourcePath(in: record), problem)
        }
    }

    /// A finite number; numeric strings (`"4.50"`) are accepted, since logs often quote prices.
    func number(_ field: WireField) throws(MappingFailure) -> Double? {
        guard let rule = mapping[field], let v = try value(field, rule) else { return nil }
        let d: Double?
        switch v {
        case .number(let n): d = n.double
        case .string(let s): d = s.isEmpty ? nil : TimeParsing.isNumberLiteral(s) ? Double(s) : .nan
        default: d = .nan
        }
        guard let d else { return nil }
        guard d.isFinite else {
            throw .invalid(
                field.rawValue, at: rule.sourcePath(in: record),
                ValueProblem("expected a finite number, found \(ValueProblem.show(v))"))
        }
        return d
    }

    /// The impression list: an array of ids, or one string (split by a `split` transform). Empty ids are skipped;
    /// more than 25 are cut to 25 when the mapping says `"impressionOverflow": "truncate"`.
    func impression() throws(MappingFailure) -> [String]? {
        guard let rule = mapping[.impression], let v = try value(.impression, rule) else { return nil }
        var ids: [String] = []
        func add(_ e: JSONValue) throws(MappingFailure) {
            switch e {
            case .string(let s): if !s.isEmpty { ids.append(s) }
            case .number(let n): ids.append(n.literal)
            default:
                throw .invalid(
                    "impression", at: rule.sourcePath(in: record),
                    ValueProblem("expected ids (strings or numbers), found \(e.typeDescription)"))
            }
        }
        if case .array(let elements) = v {
            ids.reserveCapacity(min(elements.count, 64))
            for e in elements { try add(e) }
        } else {
            try add(v)
        }
        if ids.isEmpty { return nil }
        if ids.count > Limits.impressionCount, mapping.impressionOverflow == .truncate {
            ids.removeSubrange(Limits.impressionCount...)
        }
        return ids
    }

    /// The properties string: the mapped members serialized as one JSON object, absent members left out.
    /// Written straight into a ``JSONWriter`` (the same bytes as ``PropertiesText/make(_:)``), without building
    /// an intermediate object.
    func properties() throws(MappingFailure) -> String? {
        guard !mapping.properties.isEmpty else { return nil }
        var writer = JSONWriter(capacity: 128)
        var count = 0
        for p in mapping.properties {
            let found: JSONValue?
            do throws(ValueProblem) {
                found = try p.rule.value(in: record)
            } catch {
                throw .invalid("properties.\(p.key)", at: p.rule.sourcePath(in: record), error)
            }
            guard let value = found else { continue }
            guard let scalar = try propertyValue(value, p) else { continue }
            writer.raw(count == 0 ? UInt8(ascii: "{") : UInt8(ascii: ","))
            writer.string(p.key)
            writer.raw(UInt8(ascii: ":"))
            writer.value(scalar)
            count += 1
        }
        guard count > 0 else { return nil }
        writer.raw(UInt8(ascii: "}"))
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// A property value as sent: scalars as they are, lists `|`-joined (how Personalize takes several
    /// categorical values), empty strings and lists left out.
    private func propertyValue(_ value: JSONValue, _ p: CompiledMapping.Property) throws(MappingFailure) -> JSONValue? {
        func fail(_ message: String) -> MappingFailure {
            .invalid("properties.\(p.key)", at: p.rule.sourcePath(in: record), ValueProblem(message))
        }
        switch value {
        case .string(let s): return s.isEmpty ? nil : value
        case .number(let n):
            guard n.double.isFinite else { throw fail("expected a finite number, found \(ValueProblem.show(value))") }
            return value
        case .bool: return value
        case .array(let elements):
            var texts: [String] = []
            texts.reserveCapacity(elements.count)
            for e in elements {
                guard let t = Transform.scalarText(e) else {
                    throw fail("expected a list of strings or numbers, found \(e.typeDescription) in it")
                }
                texts.append(t)
            }
            return texts.isEmpty ? nil : .string(texts.joined(separator: "|"))
        default:
            throw fail("expected a string, number, boolean or list, found \(value.typeDescription)")
        }
    }
}
