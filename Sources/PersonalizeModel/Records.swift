import JSON

/// A point in time as epoch milliseconds. The wire carries whole epoch seconds (as botocore sends them); the
/// milliseconds are kept for ordering, sessionization and `--since`/`--until`.
public struct Timestamp: Sendable, Hashable, Comparable, Codable {
    public var epochMilliseconds: Int64

    public init(epochMilliseconds: Int64) {
        self.epochMilliseconds = epochMilliseconds
    }

    public init(epochSeconds: Int64) {
        self.epochMilliseconds = epochSeconds * 1000
    }

    /// Whole seconds, rounded down (botocore truncates the same way).
    public var epochSeconds: Int64 {
        epochMilliseconds >= 0 ? epochMilliseconds / 1000 : (epochMilliseconds - 999) / 1000
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.epochMilliseconds < rhs.epochMilliseconds }

    public init(from decoder: any Decoder) throws {
        let seconds = try decoder.singleValueContainer().decode(Double.self)
        self.epochMilliseconds = Int64((seconds * 1000).rounded(.down))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(epochSeconds)
    }
}

/// `metricAttribution` of an event: where the event came from, for metric attribution reports.
public struct MetricAttribution: Sendable, Hashable, Codable {
    public var eventAttributionSource: String

    public init(eventAttributionSource: String) {
        self.eventAttributionSource = eventAttributionSource
    }
}

// The five record kinds (Event, Item, User, Action, ActionInteraction) are described once, by their stored
// properties below. Production writes them with their wire writers (WireEncoding.swift, the fast path); their
// synthesized `Codable` conformance is the oracle the tests compare those writers with (and how the tests read
// botocore's parameters). `Timestamp` encodes as whole epoch seconds, as on the wire.

/// An interaction event, sent with PutEvents.
public struct Event: Sendable, Hashable, Codable {
    public var eventId: String?
    public var eventType: String
    public var eventValue: Double?
    public var itemId: String?
    public var properties: String?
    public var sentAt: Timestamp
    public var recommendationId: String?
    public var impression: [String]?
    public var metricAttribution: MetricAttribution?

    public init(
        eventId: String? = nil, eventType: String, eventValue: Double? = nil, itemId: String? = nil,
        properties: String? = nil, sentAt: Timestamp, recommendationId: String? = nil, impression: [String]? = nil,
        metricAttribution: MetricAttribution? = nil
    ) {
        self.eventId = eventId
        self.eventType = eventType
        self.eventValue = eventValue
        self.itemId = itemId
        self.properties = properties
        self.sentAt = sentAt
        self.recommendationId = recommendationId
        self.impression = impression
        self.metricAttribution = metricAttribution
    }
}

/// A catalog item, sent with PutItems.
public struct Item: Sendable, Hashable, Codable {
    public var itemId: String
    public var properties: String?

    public init(itemId: String, properties: String? = nil) {
        self.itemId = itemId
        self.properties = properties
    }
}

/// A user profile, sent with PutUsers.
public struct User: Sendable, Hashable, Codable {
    public var userId: String
    public var properties: String?

    public init(userId: String, properties: String? = nil) {
        self.userId = userId
        self.properties = properties
    }
}

/// An action (for next-best-action recipes), sent with PutActions.
public struct Action: Sendable, Hashable, Codable {
    public var actionId: String
    public var properties: String?

    public init(actionId: String, properties: String? = nil) {
        self.actionId = actionId
        self.properties = properties
    }
}

/// An interaction with an action, sent with PutActionInteractions.
public struct ActionInteraction: Sendable, Hashable, Codable {
    public var actionId: String
    public var userId: String?
    public var sessionId: String
    public var timestamp: Timestamp
    public var eventType: String
    public var eventId: String?
    public var recommendationId: String?
    public var impression: [String]?
    public var properties: String?

    public init(
        actionId: String, userId: String? = nil, sessionId: String, timestamp: Timestamp, eventType: String,
        eventId: String? = nil, recommendationId: String? = nil, impression: [String]? = nil, properties: String? = nil
    ) {
        self.actionId = actionId
        self.userId = userId
        self.sessionId = sessionId
        self.timestamp = timestamp
        self.eventType = eventType
        self.eventId = eventId
        self.recommendationId = recommendationId
        self.impression = impression
        self.properties = properties
    }
}
