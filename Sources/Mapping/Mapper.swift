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

    final class Plan {
        let m: CompiledMapping
        init(_ m: CompiledMapping) { self.m = m }
    }

    public init(mappings: MappingSet) {
        self.mappings = mappings
        plans = mappings.mappings.map(Plan.init)
        let caps = mappings.mappings.compactMap { $0.session?.maxUsers }
        sessions = Sessionizer(maxUsers: caps.max() ?? SessionSettings.defaultMaxUsers)
    }

    /// Users currently remembered for sessionization (bounded by the largest `maxUsers`).
    public var trackedSessionUsers: Int { sessions.trackedUsers }

    /// Applies every mapping that matches `record`, in configuration order.
    ///
    /// An empty result means no mapping matched (the pipeline applies ``MappingSet/unmatched``). Each `.record` in
    /// the result passes every API limit; each `.failure` says which field failed and why.
    public func apply(_ record: JSONValue, context: RecordContext) -> [MappingResult] {
        var results: [MappingResult] = []
        results.reserveCapacity(1)
        for plan in plans where plan.m.applies(to: record, source: context.sourceName) {
            results.append(build(plan, record, context))
        }
        return results
    }

    private func build(_ plan: Plan, _ r: JSONValue, _ context: RecordContext) -> MappingResult {
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

    private func makeRecord(_ plan: Plan, _ r: JSONValue, _ context: RecordContext) throws(MappingFailure)
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
            let action = Action(actionId: try fields.id(.actionId, required: true)!, properties: try fields.properties())
            return .action(datasetArn: m.datasetArn ?? "", action)
        }
    }

    private func tracking(_ m: CompiledMapping, _ fields: FieldReader) throws(MappingFailure) -> String {
        if let t = m.trackingId { return t }
        return try fields.id(.trackingId, required: true)!
    }

    /// The record's session id, or a sessionized one when it has none and the mapping allows it.
    private func session(_ m: CompiledMapping, _ fields: FieldReader, userId: String?, time: Timestamp)
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
        return sessions.session(user: userId, time: time.epochMilliseconds, gap: gap)
    }

    /// The mapped or derived event id. A derived id hashes the line's identity (file fingerprint, byte offset) and
    /// the mapping name, so a line read twice (after a crash, before its checkpoint) gets the same id.
    private func eventId(_ m: CompiledMapping, _ fields: FieldReader, _ context: RecordContext)
        throws(MappingFailure) -> String?
    {
        guard let rule = m[.eventId] else { return nil }
        guard case .derive = rule.source else { return try fields.id(.eventId) }
        return Self.derivedEventId(context: context, mapping: m.name)
    }

    /// The id ``apply(_:context:)`` derives for `"eventId": {"derive": true}` (32 hex digits).
    public static func derivedEventId(context: RecordContext, mapping: String) -> String {
        var h = StableHash()
        h.add(context.fingerprint)
        h.add(context.offset)
        h.add(mapping)
        return h.hex
    }
}
