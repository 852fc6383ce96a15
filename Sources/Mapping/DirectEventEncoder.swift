import JSON
import PersonalizeModel
import PinnedMemory

/// The fast path of event encoding: writes an event straight from a scanned line into the form its request carries,
/// for mappings whose fields are all read in ways it knows: ids from plain paths, constants or one `lookup`, a derived
/// event id, an ISO 8601 or epoch time, a number, an impression list, properties from plain paths.
///
/// Its oracle is the generic path, ``Mapper/apply(_:context:)`` with each record encoded
/// (``EncodedMappingResult/init(_:)``): DirectEncodingTests runs both over random lines and compares every byte.
///
/// The generic path makes a `String` or ``JSONValue`` per field, an ``Event``, checks its limits, then writes it out
/// again, escaping every byte a second time; this one copies the line's string tokens as they are (an unescaped
/// JSON string token is exactly what the writer would produce for its text) and counts lengths as it goes.
///
/// It never decides that a record is invalid. Whenever it is not certain to produce exactly the generic path's
/// bytes — an escape sequence, a missing required field, a value over a limit, a type the generic path would
/// reject or convert — it answers `nil`, and the mapper takes the generic path, which also phrases any failure.
/// So the two cannot disagree about what is valid.
final class DirectEventEncoder {
    /// A rule's path table, read on every line without reference counting: ``rules`` keeps every rule, and so its
    /// table, alive as long as the encoder.
    private struct Rule {
        let paths: FieldRule.RawPaths
        init(_ rule: FieldRule) { paths = rule.rawPaths }
    }

    /// Where an id-like field comes from.
    private enum IdSource {
        case none
        case constant(Id)
        case paths(Rule)
        case lookup(Rule, Lookup)
    }

    /// An id as found: absent, a JSON string token to copy (with its length in Unicode scalars), or a number
    /// literal (written in quotes, its digits being its text).
    private enum Id {
        case absent
        case token(UnsafeBufferPointer<UInt8>, scalars: Int)
        case literal(UnsafeBufferPointer<UInt8>)
        case unsure

        var isPresent: Bool {
            switch self {
            case .token, .literal: true
            case .absent, .unsure: false
            }
        }

        /// The text, for batch keys.
        var text: String? {
            switch self {
            case .token(let t, _): String(decoding: UnsafeBufferPointer(rebasing: t[1..<(t.count - 1)]), as: UTF8.self)
            case .literal(let t): String(decoding: t, as: UTF8.self)
            case .absent, .unsure: nil
            }
        }
    }

    /// A one-step `lookup` with ASCII keys (so byte equality is `String` equality); its tables live in the
    /// encoder's arena, so that reading it retains nothing.
    private struct Lookup {
        var keys: UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>
        var values: UnsafeBufferPointer<Id>
        var miss: Miss

        enum Miss {
            case keep, drop
            case replace(Id)
        }
    }

    private struct Property {
        var rule: Rule
        /// `{"key":` and `,"key":` as they appear inside the properties string (escaped once more).
        var first: UnsafeBufferPointer<UInt8>
        var next: UnsafeBufferPointer<UInt8>
        /// Unicode scalars of `"key":` plus the brace or comma, in the unescaped properties text.
        var scalars: Int
    }

    private let mapping: String
    private let trackingId: String
    private let userId: IdSource
    private let sessionId: IdSource
    private let eventType: IdSource
    private let itemId: IdSource
    private let recommendationId: IdSource
    private let eventId: IdSource
    private let derivesEventId: Bool
    private let eventValue: Rule?
    private let sentAt: Rule
    private let sentAtFormat: TimeFormat
    private let impression: Rule?
    private let truncatesImpression: Bool
    private let properties: UnsafeBufferPointer<Property>
    /// The rules the fields above read, kept alive.
    private let rules: [FieldRule]
    /// The tokens, keys, prefixes and tables above, for the encoder's lifetime.
    private let arena: PinnedArena

    /// An encoder for `m`, or `nil` when some field is read in a way it does not handle (the generic path then
    /// maps every record of the mapping).
    init?(_ m: CompiledMapping) {
        guard m.target == .event, let trackingId = m.trackingId, !m.sessionizes, m[.metricAttribution] == nil,
            let sentAt = m[.sentAt], Self.isPlain(sentAt)
        else { return nil }
        switch sentAt.time.kind {
        case .iso8601, .auto, .epoch: break
        case .pattern: return nil
        }
        let tracking = trackingId.utf8.count
        guard tracking >= 1, Limits.length(trackingId) <= Limits.idLength else { return nil }
        mapping = m.name
        self.trackingId = trackingId
        self.sentAt = Rule(sentAt)
        sentAtFormat = sentAt.time
        var ok = true
        let arena = PinnedArena(capacity: 1024)
        self.arena = arena
        var rules: [FieldRule] = [sentAt]
        func pinned<T: BitwiseCopyable>(_ elements: [T]) -> UnsafeBufferPointer<T> { arena.pin(elements) }
        func keep(_ bytes: [UInt8]) -> UnsafeBufferPointer<UInt8> { arena.pin(bytes) }
        func text(_ s: String) -> Id {
            if s.isEmpty { return .absent }
            var w = JSONWriter(capacity: s.utf8.count + 2)
            w.string(s)
            return .token(keep(w.bytes), scalars: Limits.length(s))
        }
        func source(_ field: WireField) -> IdSource {
            guard let rule = m[field] else { return .none }
            switch rule.source {
            case .constant(let value) where rule.transforms.isEmpty:
                switch value {
                case .string(let s): return .constant(text(s))
                case .number(let n): return .constant(.literal(keep(Array(n.literal.utf8))))
                default: ok = false
                }
            case .paths where rule.defaultValue == nil && rule.transforms.isEmpty:
                rules.append(rule)
                return .paths(Rule(rule))
            case .paths where rule.defaultValue == nil && rule.transforms.count == 1:
                guard case .lookup(let table, let otherwise) = rule.transforms[0],
                    table.keys.allSatisfy({ $0.utf8.allSatisfy { $0 < 0x80 } })
                else { break }
                let entries = Array(table)
                let miss: Lookup.Miss
                switch otherwise {
                case .keep: miss = .keep
                case .drop: miss = .drop
                case .replace(let s): miss = .replace(text(s))
                }
                rules.append(rule)
                return .lookup(
                    Rule(rule),
                    Lookup(
                        keys: pinned(entries.map { keep(Array($0.key.utf8)) }),
                        values: pinned(entries.map { text($0.value) }),
                        miss: miss))
            default: break
            }
            ok = false
            return .none
        }
        userId = source(.userId)
        sessionId = source(.sessionId)
        eventType = source(.eventType)
        itemId = source(.itemId)
        recommendationId = source(.recommendationId)
        if let rule = m[.eventId], case .derive = rule.source {
            derivesEventId = true
            eventId = .none
        } else {
            derivesEventId = false
            eventId = source(.eventId)
        }
        eventValue = m[.eventValue].map(Rule.init)
        impression = m[.impression].map(Rule.init)
        truncatesImpression = m.impressionOverflow == .truncate
        for r in [m[.eventValue], m[.impression]] {
            guard let r else { continue }
            if !Self.isPlain(r) { ok = false }
            rules.append(r)
        }
        var properties: [Property] = []
        for p in m.properties {
            rules.append(p.rule)
            guard Self.isPlain(p.rule), !Limits.reservedEventPropertyKeys.contains(p.key.lowercased()) else {
                ok = false
                break
            }
            var inner = JSONWriter(capacity: p.key.utf8.count + 3)
            inner.string(p.key)
            inner.raw(UInt8(ascii: ":"))
            let keyText = String(decoding: inner.bytes, as: UTF8.self)
            var outer = JSONWriter(capacity: inner.bytes.count * 2 + 4)
            outer.string(keyText)
            let escaped = Array(outer.bytes.dropFirst().dropLast())
            properties.append(
                Property(
                    rule: Rule(p.rule), first: keep([UInt8(ascii: "{")] + escaped),
                    next: keep([UInt8(ascii: ",")] + escaped),
                    scalars: 1 + Limits.length(keyText)))
        }
        self.properties = pinned(properties)
        self.rules = rules
        guard ok else { return nil }
    }

    /// A rule that reads paths, with no transform and no default.
    private static func isPlain(_ rule: FieldRule) -> Bool {
        if case .paths = rule.source, rule.transforms.isEmpty, rule.defaultValue == nil { return true }
        return false
    }

    @inline(__always)
    private static func node(_ rule: Rule, _ doc: JSONTape.Document) -> Int? {
        let paths = rule.paths
        guard let base = paths.base else { return nil }
        for i in 0..<paths.count {
            // As the generic path (``RecordView/firstValue(of:)``): an empty string is absent.
            if let node = FieldPath.resolve(base[i], in: doc), !doc.isEmptyString(node) { return node }
        }
        return nil
    }

    /// Unicode scalars in valid UTF-8: the bytes that do not continue a sequence.
    @inline(__always)
    private static func scalars(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var n = 0
        for b in bytes where b & 0xC0 != 0x80 { n += 1 }
        return n
    }

    /// The text between a string token's quotes.
    @inline(__always)
    private static func inner(_ token: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: token[1..<(token.count - 1)])
    }

    /// An id read as the generic path reads it: strings (empty ones are absent) and numbers (their literal).
    @inline(__always)
    private static func plainId(_ node: Int, _ doc: JSONTape.Document) -> Id {
        switch doc.kind(node) {
        case JSONTape.Kind.string:
            guard doc.isUnescaped(node) else { return .unsure }
            let token = doc.token(node)
            if token.count == 2 { return .absent }
            return .token(token, scalars: doc.isASCII(node) ? token.count - 2 : scalars(inner(token)))
        case JSONTape.Kind.number:
            return .literal(doc.token(node))
        default:
            return .unsure
        }
    }

    /// The id `source` gives for the line, `.unsure` when longer than `max`.
    @inline(__always)
    private func id(_ source: IdSource, _ doc: JSONTape.Document, max: Int) -> Id {
        let found: Id
        switch source {
        case .none: return .absent
        case .constant(let id): found = id
        case .paths(let rule):
            guard let node = Self.node(rule, doc) else { return .absent }
            found = Self.plainId(node, doc)
        case .lookup(let rule, let table):
            guard let node = Self.node(rule, doc) else { return .absent }
            let key: UnsafeBufferPointer<UInt8>
            switch doc.kind(node) {
            case JSONTape.Kind.string:
                guard doc.isUnescaped(node), doc.isASCII(node) else { return .unsure }
                key = Self.inner(doc.token(node))
            case JSONTape.Kind.number:
                key = doc.token(node)
            default:
                return .unsure
            }
            var hit: Id?
            for (i, k) in table.keys.enumerated() where k.count == key.count && k.elementsEqual(key) {
                hit = table.values[i]
                break
            }
            if let hit {
                found = hit
            } else {
                switch table.miss {
                case .keep: found = Self.plainId(node, doc)
                case .drop: return .absent
                case .replace(let id): found = id
                }
            }
        }
        switch found {
        case .token(_, let n): return n <= max ? found : .unsure
        case .literal(let t): return t.count <= max ? found : .unsure
        case .absent, .unsure: return found
        }
    }

    @inline(__always)
    private static func write(_ id: Id, _ w: inout JSONWriter) {
        switch id {
        case .token(let t, _): w.bytes.append(contentsOf: t)
        case .literal(let t):
            w.raw(UInt8(ascii: "\""))
            w.bytes.append(contentsOf: t)
            w.raw(UInt8(ascii: "\""))
        case .absent, .unsure: break
        }
    }

    /// Epoch milliseconds of the time field, as ``TimeFormat/read(_:)`` reads them (ISO 8601 text straight from the
    /// line's bytes, anything else through `read` itself); `nil` when absent or unreadable.
    @inline(__always)
    private func time(_ doc: JSONTape.Document) -> Int64? {
        guard let node = Self.node(sentAt, doc) else { return nil }
        let format = sentAtFormat
        if doc.kind(node) == JSONTape.Kind.string, doc.isUnescaped(node),
            let parsed = ISO8601.parse(bytes: Self.inner(doc.token(node)))
        {
            switch format.kind {
            case .iso8601, .auto: return format.millis(parsed)
            case .epoch, .pattern: break
            }
        }
        guard case .success(let ms) = format.read(doc.value(node)) else { return nil }
        return ms
    }

    /// Whether a number literal is finite as a `Double` (as ``JSONNumber/double`` reads it).
    @inline(__always)
    private static func isFinite(_ literal: UnsafeBufferPointer<UInt8>) -> Bool {
        // Up to 15 characters without an exponent cannot overflow.
        if literal.count <= 15, !literal.contains(UInt8(ascii: "e")), !literal.contains(UInt8(ascii: "E")) {
            return true
        }
        return JSONNumber(literal: String(decoding: literal, as: UTF8.self)).double.isFinite
    }

    /// The event the mapping makes of the line, in its request form; `nil` when the generic path must decide.
    func encode(_ doc: JSONTape.Document, context: RecordContext) -> EncodedMappingResult? {
        let userId = id(self.userId, doc, max: Limits.idLength)
        let sessionId = id(self.sessionId, doc, max: Limits.idLength)
        let eventType = id(self.eventType, doc, max: Limits.idLength)
        guard sessionId.isPresent, eventType.isPresent else { return nil }
        if case .unsure = userId { return nil }
        let eventId = derivesEventId ? .absent : id(self.eventId, doc, max: Limits.idLength)
        let itemId = id(self.itemId, doc, max: Limits.idLength)
        let recommendationId = id(self.recommendationId, doc, max: Limits.recommendationIdLength)
        if case .unsure = eventId { return nil }
        if case .unsure = itemId { return nil }
        if case .unsure = recommendationId { return nil }
        guard let ms = time(doc) else { return nil }

        var value: Double?
        if let rule = eventValue, let node = Self.node(rule, doc) {
            guard doc.kind(node) == JSONTape.Kind.number else { return nil }
            let d = JSONNumber(literal: String(decoding: doc.token(node), as: UTF8.self)).double
            guard d.isFinite else { return nil }
            value = d
        }

        var w = JSONWriter(capacity: 320)
        w.raw(UInt8(ascii: "{"))
        var comma = false
        if derivesEventId {
            w.key("eventId", comma: false)
            w.raw(UInt8(ascii: "\""))
            Mapper.eventIdHash(context: context, mapping: mapping).appendHex(to: &w.bytes)
            w.raw(UInt8(ascii: "\""))
            comma = true
        } else if eventId.isPresent {
            w.key("eventId", comma: false)
            Self.write(eventId, &w)
            comma = true
        }
        w.key("eventType", comma: comma)
        Self.write(eventType, &w)
        if let value {
            w.key("eventValue", comma: true)
            w.number(value)
        }
        if itemId.isPresent {
            w.key("itemId", comma: true)
            Self.write(itemId, &w)
        }
        w.key("sentAt", comma: true)
        w.number(Timestamp(epochMilliseconds: ms).epochSeconds)
        if !properties.isEmpty {
            guard writeProperties(doc, &w) else { return nil }
        }
        if recommendationId.isPresent {
            w.key("recommendationId", comma: true)
            Self.write(recommendationId, &w)
        }
        if let rule = impression, let node = Self.node(rule, doc) {
            guard writeImpression(node, doc, &w) else { return nil }
        }
        w.raw(UInt8(ascii: "}"))
        guard w.bytes.count <= Limits.eventBytes else { return nil }

        let key = BatchKey(
            operation: .putEvents, destination: trackingId, userId: userId.text, sessionId: sessionId.text)
        return .record(
            mapping: mapping, EncodedRecord(key: key, element: w.bytes), time: Timestamp(epochMilliseconds: ms))
    }

    /// `,"properties":"{\"k\":...}"` (nothing when no property is present); `false` when unsure.
    private func writeProperties(_ doc: JSONTape.Document, _ w: inout JSONWriter) -> Bool {
        let mark = w.bytes.count
        w.key("properties", comma: true)
        w.raw(UInt8(ascii: "\""))
        var count = 0
        var scalars = 1  // the closing brace
        for p in properties {
            guard let node = Self.node(p.rule, doc) else { continue }
            switch doc.kind(node) {
            case JSONTape.Kind.string:
                guard doc.isUnescaped(node) else { return false }
                let token = doc.token(node)
                if token.count == 2 { continue }
                let text = Self.inner(token)
                w.bytes.append(contentsOf: count == 0 ? p.first : p.next)
                w.raw(UInt8(ascii: "\\"))
                w.raw(UInt8(ascii: "\""))
                w.bytes.append(contentsOf: text)
                w.raw(UInt8(ascii: "\\"))
                w.raw(UInt8(ascii: "\""))
                scalars += p.scalars + 2 + (doc.isASCII(node) ? text.count : Self.scalars(text))
            case JSONTape.Kind.number:
                let literal = doc.token(node)
                guard Self.isFinite(literal) else { return false }
                w.bytes.append(contentsOf: count == 0 ? p.first : p.next)
                w.bytes.append(contentsOf: literal)
                scalars += p.scalars + literal.count
            case JSONTape.Kind.true, JSONTape.Kind.false:
                let literal = doc.token(node)
                w.bytes.append(contentsOf: count == 0 ? p.first : p.next)
                w.bytes.append(contentsOf: literal)
                scalars += p.scalars + literal.count
            default:
                return false
            }
            count += 1
        }
        if count == 0 {
            w.bytes.removeSubrange(mark...)
            return true
        }
        w.raw(UInt8(ascii: "}"))
        w.raw(UInt8(ascii: "\""))
        return scalars <= Limits.eventPropertiesLength
    }

    /// `,"impression":[...]` (nothing when the list has no id); `false` when unsure.
    private func writeImpression(_ node: Int, _ doc: JSONTape.Document, _ w: inout JSONWriter) -> Bool {
        let mark = w.bytes.count
        w.key("impression", comma: true)
        w.raw(UInt8(ascii: "["))
        var count = 0
        func add(_ element: Int) -> Bool {
            let id = Self.plainId(element, doc)
            switch id {
            case .unsure: return false
            case .absent: return true
            case .token(_, let n):
                count += 1
                if count > Limits.impressionCount { return truncatesImpression }
                guard n <= Limits.idLength else { return false }
            case .literal(let t):
                count += 1
                if count > Limits.impressionCount { return truncatesImpression }
                guard t.count <= Limits.idLength else { return false }
            }
            if count > 1 { w.raw(UInt8(ascii: ",")) }
            Self.write(id, &w)
            return true
        }
        if doc.kind(node) == JSONTape.Kind.array {
            var element = node + 1
            let end = doc.after(node)
            while element < end {
                guard add(element) else { return false }
                element = doc.after(element)
            }
        } else {
            guard add(node) else { return false }
        }
        if count == 0 {
            w.bytes.removeSubrange(mark...)
            return true
        }
        w.raw(UInt8(ascii: "]"))
        return true
    }
}
