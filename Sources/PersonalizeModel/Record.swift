import JSON

/// One mapped record with the destination it belongs to: the unit that is validated, batched and acknowledged.
public enum Record: Sendable, Hashable {
    case event(trackingId: String, userId: String?, sessionId: String, Event)
    case item(datasetArn: String, Item)
    case user(datasetArn: String, User)
    case action(datasetArn: String, Action)
    case actionInteraction(trackingId: String, ActionInteraction)

    public var operation: Operation {
        switch self {
        case .event: .putEvents
        case .item: .putItems
        case .user: .putUsers
        case .action: .putActions
        case .actionInteraction: .putActionInteractions
        }
    }

    /// Records with equal keys may share one request.
    public var batchKey: BatchKey {
        switch self {
        case .event(let t, let u, let s, _): BatchKey(operation: .putEvents, destination: t, userId: u, sessionId: s)
        case .item(let arn, _): BatchKey(operation: .putItems, destination: arn)
        case .user(let arn, _): BatchKey(operation: .putUsers, destination: arn)
        case .action(let arn, _): BatchKey(operation: .putActions, destination: arn)
        case .actionInteraction(let t, _): BatchKey(operation: .putActionInteractions, destination: t)
        }
    }

    /// The time the record describes, when it has one (events and action interactions).
    public var time: Timestamp? {
        switch self {
        case .event(_, _, _, let e): e.sentAt
        case .actionInteraction(_, let a): a.timestamp
        default: nil
        }
    }

    /// Every limit of the API that this record breaks, with the field named as on the wire.
    public func violations() -> [LimitViolation] {
        var c = Checker()
        switch self {
        case .event(let trackingId, let userId, let sessionId, let e):
            c.text(trackingId, "trackingId", max: Limits.idLength)
            c.optionalText(userId, "userId", max: Limits.idLength)
            c.text(sessionId, "sessionId", max: Limits.idLength)
            c.optionalText(e.eventId, "eventId", max: Limits.idLength)
            c.text(e.eventType, "eventType", max: Limits.idLength)
            c.optionalText(e.itemId, "itemId", max: Limits.idLength)
            c.optionalText(e.recommendationId, "recommendationId", max: Limits.recommendationIdLength)
            c.impression(e.impression, "impression")
            c.properties(
                e.properties, "properties", max: Limits.eventPropertiesLength,
                reserved: Limits.reservedEventPropertyKeys)
            if let v = e.eventValue, !v.isFinite {
                c.violations.append(LimitViolation(field: "eventValue", message: "must be a finite number"))
            }
            if let source = e.metricAttribution?.eventAttributionSource {
                c.text(source, "metricAttribution.eventAttributionSource", max: Limits.eventAttributionSourceLength)
                if !Limits.isPrintableASCII(source) {
                    c.violations.append(
                        LimitViolation(
                            field: "metricAttribution.eventAttributionSource", message: "must be printable ASCII"))
                } else if !source.isEmpty, !Limits.hasVisibleASCII(source) {
                    c.violations.append(
                        LimitViolation(
                            field: "metricAttribution.eventAttributionSource",
                            message: "must have a visible character, not only spaces"))
                }
            }
            if c.violations.isEmpty, e.maxWireBytes > Limits.eventBytes {
                let size = e.wireBody.count
                if size > Limits.eventBytes {
                    c.violations.append(
                        LimitViolation(
                            field: "event", message: "is \(size) bytes, the limit is \(Limits.eventBytes)"))
                }
            }
        case .item(let arn, let item):
            c.arn(arn, "datasetArn")
            c.text(item.itemId, "itemId", max: Limits.idLength)
            c.properties(item.properties, "properties", max: Limits.itemPropertiesLength)
        case .user(let arn, let user):
            c.arn(arn, "datasetArn")
            c.text(user.userId, "userId", max: Limits.idLength)
            c.properties(user.properties, "properties", max: Limits.userPropertiesLength)
        case .action(let arn, let action):
            c.arn(arn, "datasetArn")
            c.text(action.actionId, "actionId", max: Limits.idLength)
            c.properties(action.properties, "properties", max: Limits.actionPropertiesLength)
        case .actionInteraction(let trackingId, let a):
            c.text(trackingId, "trackingId", max: Limits.idLength)
            c.text(a.actionId, "actionId", max: Limits.idLength)
            c.optionalText(a.userId, "userId", max: Limits.idLength)
            c.text(a.sessionId, "sessionId", max: Limits.idLength)
            c.text(a.eventType, "eventType", max: Limits.idLength)
            c.optionalText(a.eventId, "eventId", max: Limits.idLength)
            c.optionalText(a.recommendationId, "recommendationId", max: Limits.recommendationIdLength)
            c.impression(a.impression, "impression")
            c.properties(a.properties, "properties", max: Limits.actionInteractionPropertiesLength)
        }
        return c.violations
    }
}

/// What records must share to travel in one request.
///
/// Its hash is computed once, when it is made (on the mapping threads): the batcher looks every record's key up.
public struct BatchKey: Sendable, Hashable, CustomStringConvertible {
    public let operation: Operation
    /// The tracking id (events, action interactions) or dataset ARN (items, users, actions).
    public let destination: String
    public let userId: String?
    public let sessionId: String?
    private let hashCode: Int

    public init(operation: Operation, destination: String, userId: String? = nil, sessionId: String? = nil) {
        self.operation = operation
        self.destination = destination
        self.userId = userId
        self.sessionId = sessionId
        var hasher = Hasher()
        hasher.combine(operation)
        hasher.combine(destination)
        hasher.combine(userId)
        hasher.combine(sessionId)
        hashCode = hasher.finalize()
    }

    public static func == (a: BatchKey, b: BatchKey) -> Bool {
        a.hashCode == b.hashCode && a.operation == b.operation && a.destination == b.destination
            && a.userId == b.userId && a.sessionId == b.sessionId
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(hashCode)
    }

    /// Without the user and session: personal data stays out of logs.
    public var description: String { "\(operation.rawValue) \(destination)" }
}

/// A request body ready to sign and send, built from records that share a ``BatchKey``.
public struct RequestBody: Sendable {
    public var operation: Operation
    public var body: [UInt8]

    /// Builds the request for `records`, which must all share `key` (the batcher guarantees it).
    public init(key: BatchKey, records: [Record]) {
        operation = key.operation
        body = Self.encode(key, records)
    }
}

extension Event {
    /// An upper bound of the serialized size, cheap to compute: each UTF-8 byte takes at most 6 bytes escaped
    /// (`\u00XX`), plus generous room for names, quotes and numbers. Events far below the limit skip serializing.
    var maxWireBytes: Int {
        var bytes = eventType.utf8.count + (eventId?.utf8.count ?? 0) + (itemId?.utf8.count ?? 0)
        bytes += (properties?.utf8.count ?? 0) + (recommendationId?.utf8.count ?? 0)
        bytes += metricAttribution?.eventAttributionSource.utf8.count ?? 0
        var count = 0
        for id in impression ?? [] {
            bytes += id.utf8.count
            count += 1
        }
        return bytes * 6 + count * 3 + 400
    }
}
