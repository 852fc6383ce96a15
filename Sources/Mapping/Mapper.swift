import JSON
import PersonalizeModel

/// Turns log records into Personalize records, following a ``MappingSet``.
///
/// It is a class because sessionization remembers recent users between records; one task owns it (the pipeline's
/// mapping stage), so it needs no locking and is deliberately not `Sendable`.
public final class Mapper {
    public let mappings: MappingSet
    /// The mappings behind references, so that the per-record loop retains one object instead of copying structs.
    private let plans: [Plan]
    var sessions: Sessionizer
    /// Scratch index of the line being mapped by ``apply(line:context:)``.
    private let tape = JSONTape()

    final class Plan {
        let m: CompiledMapping
        /// Writes the mapping's records straight from the line, when it knows how to read all its fields.
        let direct: DirectEventEncoder?
        /// Reads `$meta` paths: sees records through a ``MetaRecord`` (and never takes the direct encoder).
        let readsMeta: Bool
        init(_ m: CompiledMapping, directEncoding: Bool) {
            self.m = m
            readsMeta = m.readsMeta
            direct = readsMeta || !directEncoding ? nil : DirectEventEncoder(m)
        }
    }

    /// Whether some mapping reads `$meta` paths: only then must ``RecordContext/meta`` be filled.
    public let readsMeta: Bool

    /// Records ``apply(line:context:)`` wrote directly (the rest took the generic path); for tests.
    public private(set) var directlyEncoded = 0

    public convenience init(mappings: MappingSet) {
        self.init(mappings: mappings, directEncoding: true)
    }

    /// With `directEncoding` false, ``apply(line:context:)`` builds every record on the generic path (tests compare
    /// that path with the oracle on its own).
    init(mappings: MappingSet, directEncoding: Bool) {
        self.mappings = mappings
        plans = mappings.mappings.map { Plan($0, directEncoding: directEncoding) }
        readsMeta = plans.contains { $0.readsMeta }
        sessions = Sessionizer(maxUsers: SessionState.maxUsers(mappings))
    }

    /// When set, every sessionization is also noted in ``sessionTouches``, for the engine to apply to the
    /// ``SessionState`` it saves once the line is checkpointed.
    public var recordsSessionTouches = false
    /// Sessionizations since ``clearSessionTouches()`` (with ``recordsSessionTouches``).
    public private(set) var sessionTouches: [SessionTouch] = []

    public func clearSessionTouches() {
        sessionTouches.removeAll(keepingCapacity: true)
    }

    /// Continues from a saved state: users' sessions go on as if the lines behind it had just been mapped.
    public func restoreSessions(_ state: SessionState) {
        sessions.restore(state.sessionizer.saved())
    }

    /// Users currently remembered for sessionization (bounded by the largest `maxUsers`).
    public var trackedSessionUsers: Int { sessions.trackedUsers }

    /// Parses one log line and applies every mapping that matches it, in configuration order, each record already
    /// encoded in the form its request carries: the agent's path, and the only one that reads lines.
    ///
    /// It validates the whole line with a ``JSONTape``, then makes values only for the fields the mappings read.
    /// Events of mappings whose fields are all read in the common ways are written straight from the line
    /// (``DirectEventEncoder``, the fast path); anything else, and any line the direct encoder is unsure of, is built
    /// as a ``Record`` and encoded (``EncodedMappingResult/init(_:)``). The results are those of the oracle
    /// ``apply(_:context:)`` on `try JSONParser.parse(line)`, each encoded, in the same order, with the same error for
    /// a line that is not valid JSON (LineApplyTests and DirectEncodingTests compare them byte for byte).
    ///
    /// An empty result means no mapping matched (the pipeline applies ``MappingSet/unmatched``). Each `.record` in
    /// the result passes every API limit; each `.failure` says which field failed and why. `line` is only read
    /// during the call.
    public func apply(line: UnsafeRawBufferPointer, context: RecordContext) throws(JSONParseError)
        -> [EncodedMappingResult]
    {
        guard let document = tape.scan(line) else {
            // Not valid JSON: the parser says why (the two accept the same documents; should they ever not, the
            // line still maps as the parser reads it).
            return apply(try JSONParser.parse(line), context: context).map(EncodedMappingResult.init)
        }
        let record = TapeRecord(tape: document)
        var results: [EncodedMappingResult] = []
        results.reserveCapacity(1)
        for plan in plans {
            if plan.readsMeta {
                let view = MetaRecord(base: record, context: context)
                if plan.m.applies(to: view, source: context.sourceName) {
                    results.append(EncodedMappingResult(build(plan, view, context)))
                }
                continue
            }
            guard plan.m.applies(to: record, source: context.sourceName) else { continue }
            if let direct = plan.direct, let result = direct.encode(document, context: context) {
                directlyEncoded &+= 1
                results.append(result)
            } else {
                results.append(EncodedMappingResult(build(plan, record, context)))
            }
        }
        return results
    }

    /// Applies every mapping that matches an already parsed `record`, in configuration order, and returns the
    /// records themselves: for readers that need a ``Record`` rather than its request form (the CSV export,
    /// `explain`, the first-record peek that orders new files), and the test oracle of ``apply(line:context:)``.
    ///
    /// An empty result means no mapping matched. Each `.record` passes every API limit; each `.failure` says which
    /// field failed and why.
    public func apply(_ record: JSONValue, context: RecordContext) -> [MappingResult] {
        applyView(record, context: context)
    }

    @inline(__always)
    private func applyView<R: RecordView>(_ record: R, context: RecordContext) -> [MappingResult] {
        var results: [MappingResult] = []
        results.reserveCapacity(1)
        for plan in plans {
            if plan.readsMeta {
                let view = MetaRecord(base: record, context: context)
                if plan.m.applies(to: view, source: context.sourceName) { results.append(build(plan, view, context)) }
            } else if plan.m.applies(to: record, source: context.sourceName) {
                results.append(build(plan, record, context))
            }
        }
        return results
    }

    private func build<R: RecordView>(_ plan: Plan, _ r: R, _ context: RecordContext) -> MappingResult {
        let m = plan.m
        do throws(MappingFailure) {
            let record = try makeRecord(plan, r, context)
            let violations = record.violations()
            if let first = violations.first {
                let more = violations.count > 1 ? " (and \(violations.count - 1) more problems)" : ""
                return .failure(
                    mapping: m.name, MappingFailure(field: first.field, reason: first.message + more, kind: .limit))
            }
            return .record(mapping: m.name, record)
        } catch {
            return .failure(mapping: m.name, error)
        }
    }

    private func makeRecord<R: RecordView>(_ plan: Plan, _ r: R, _ context: RecordContext) throws(MappingFailure)
        -> Record
    {
        let m = plan.m
        let fields = FieldReader(plan: plan, record: r)
        switch m.target {
        case .event:
            let trackingId = try tracking(m, fields)
            let userId = try fields.id(.userId)
            let eventType = try fields.id(.eventType, required: true)!
            let sentAt = try fields.time(.sentAt)
            let sessionId = try session(m, fields, userId: userId, time: sentAt)
            var event = Event(eventType: eventType, sentAt: sentAt)
            event.eventId = try eventId(m, fields, context)
            event.eventValue = try fields.number(.eventValue)
            event.itemId = try fields.id(.itemId)
            event.recommendationId = try fields.id(.recommendationId)
            event.impression = try fields.impression()
            event.metricAttribution = try fields.id(.metricAttribution).map {
                MetricAttribution(eventAttributionSource: $0)
            }
            event.properties = try fields.properties()
            return .event(trackingId: trackingId, userId: userId, sessionId: sessionId, event)
        case .actionInteraction:
            let trackingId = try tracking(m, fields)
            let actionId = try fields.id(.actionId, required: true)!
            let userId = try fields.id(.userId)
            let timestamp = try fields.time(.timestamp)
            let sessionId = try session(m, fields, userId: userId, time: timestamp)
            var a = ActionInteraction(
                actionId: actionId, userId: userId, sessionId: sessionId, timestamp: timestamp,
                eventType: try fields.id(.eventType, required: true)!)
            a.eventId = try eventId(m, fields, context)
            a.recommendationId = try fields.id(.recommendationId)
            a.impression = try fields.impression()
            a.properties = try fields.properties()
            return .actionInteraction(trackingId: trackingId, a)
        case .item:
            let item = Item(itemId: try fields.id(.itemId, required: true)!, properties: try fields.properties())
            return .item(datasetArn: m.datasetArn ?? "", item)
        case .user:
            let user = User(userId: try fields.id(.userId, required: true)!, properties: try fields.properties())
            return .user(datasetArn: m.datasetArn ?? "", user)
        case .action:
            let action = Action(
                actionId: try fields.id(.actionId, required: true)!, properties: try fields.properties())
            return .action(datasetArn: m.datasetArn ?? "", action)
        }
    }

    private func tracking<R>(_ m: CompiledMapping, _ fields: FieldReader<R>) throws(MappingFailure) -> String {
        if let t = m.trackingId { return t }
        return try fields.id(.trackingId, required: true)!
    }

    /// The record's session id, or a sessionized one when it has none and the mapping allows it.
    private func session<R>(_ m: CompiledMapping, _ fields: FieldReader<R>, userId: String?, time: Timestamp)
        throws(MappingFailure) -> String
    {
        if let id = try fields.id(.sessionId, required: !m.sessionizes) { return id }
        guard let userId else {
            let tried = m[.sessionId].map { "\($0.sourcePhrase) absent" } ?? "none is mapped"
            throw MappingFailure(
                field: "sessionId", reason: "required, but \(tried), and sessionization needs a userId",
                kind: .missingField)
        }
        let gap = m.session?.gapMilliseconds ?? SessionSettings().gapMilliseconds
        if recordsSessionTouches {
            sessionTouches.append(SessionTouch(user: userId, time: time.epochMilliseconds, gap: gap))
        }
        return sessions.session(user: userId, time: time.epochMilliseconds, gap: gap)
    }

    /// The mapped or derived event id. A derived id hashes the line's identity (file fingerprint, byte offset) and
    /// the mapping name, so a line read twice (after a crash, before its checkpoint) gets the same id.
    private func eventId<R>(_ m: CompiledMapping, _ fields: FieldReader<R>, _ context: RecordContext)
        throws(MappingFailure) -> String?
    {
        guard let rule = m[.eventId] else { return nil }
        guard case .derive = rule.source else { return try fields.id(.eventId) }
        return Self.derivedEventId(context: context, mapping: m.name)
    }

    /// The text of `record`'s `eventValue` under `mapping` as the log wrote it: a number's literal digits or a
    /// numeric string's text (`345.0` stays `345.0`), `nil` when the mapping has none or the value is not numeric.
    /// For writers that must not round a value through a `Double` (the CSV export).
    public func eventValueText(_ record: JSONValue, mapping: String) -> String? {
        guard let plan = plans.first(where: { $0.m.name == mapping }), let rule = plan.m[.eventValue],
            let value = try? rule.value(in: record)
        else { return nil }
        switch value {
        case .number(let n): return n.literal
        case .string(let s): return TimeParsing.isNumberLiteral(s) ? s : nil
        default: return nil
        }
    }

    /// The id ``apply(_:context:)`` derives for `"eventId": {"derive": true}` (32 hex digits).
    public static func derivedEventId(context: RecordContext, mapping: String) -> String {
        eventIdHash(context: context, mapping: mapping).hex
    }

    /// The hash behind ``derivedEventId(context:mapping:)`` (``DirectEventEncoder`` writes its digits as bytes).
    static func eventIdHash(context: RecordContext, mapping: String) -> StableHash {
        var h = StableHash()
        h.add(context.fingerprint)
        h.add(context.offset)
        h.add(mapping)
        return h
    }
}
