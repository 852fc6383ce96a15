/// The kind of Personalize record a mapping produces, and which wire fields it takes.
public enum Target: String, Sendable, Hashable, CaseIterable {
    case event
    case item
    case user
    case action
    case actionInteraction

    /// Fields a mapping of this target may set in `fields`, in wire order.
    var allowed: [WireField] {
        switch self {
        case .event:
            [
                .trackingId, .userId, .sessionId, .eventId, .eventType, .eventValue, .itemId, .sentAt, .properties,
                .recommendationId, .impression, .metricAttribution,
            ]
        case .item: [.itemId, .properties]
        case .user: [.userId, .properties]
        case .action: [.actionId, .properties]
        case .actionInteraction:
            [
                .trackingId, .actionId, .userId, .sessionId, .timestamp, .eventType, .eventId, .recommendationId,
                .impression, .properties,
            ]
        }
    }

    /// Fields the API requires. `trackingId` may come from the mapping's top level and `sessionId` from
    /// sessionization; `eventId` may be derived; the parser accounts for those.
    var required: [WireField] {
        switch self {
        case .event: [.trackingId, .sessionId, .eventType, .sentAt]
        case .item: [.itemId]
        case .user: [.userId]
        case .action: [.actionId]
        case .actionInteraction: [.trackingId, .actionId, .sessionId, .timestamp, .eventType]
        }
    }

    /// Items, users and actions go to a dataset; events and action interactions to an event tracker.
    var usesDataset: Bool {
        switch self {
        case .item, .user, .action: true
        case .event, .actionInteraction: false
        }
    }
}

/// A member of a Personalize record that a field rule can fill.
enum WireField: String, Sendable, Hashable, CaseIterable {
    case trackingId, userId, sessionId, eventId, eventType, eventValue, itemId, actionId
    case sentAt, timestamp, properties, recommendationId, impression, metricAttribution

    enum Kind { case id, number, time, list, properties }

    var kind: Kind {
        switch self {
        case .eventValue: .number
        case .sentAt, .timestamp: .time
        case .impression: .list
        case .properties: .properties
        default: .id
        }
    }

    /// Longest value the API accepts, for checking constants at start-up.
    var maxLength: Int {
        switch self {
        case .recommendationId: 40
        case .metricAttribution: 1024
        default: 256
        }
    }

    /// Position in ``Mapping/rules``: a fixed slot per field, so the hot path indexes instead of hashing.
    var slot: Int {
        switch self {
        case .trackingId: 0
        case .userId: 1
        case .sessionId: 2
        case .eventId: 3
        case .eventType: 4
        case .eventValue: 5
        case .itemId: 6
        case .actionId: 7
        case .sentAt: 8
        case .timestamp: 9
        case .properties: 10
        case .recommendationId: 11
        case .impression: 12
        case .metricAttribution: 13
        }
    }
}
