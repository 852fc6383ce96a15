/// A request the stand-in answered with 2xx, as it arrived.
///
/// Only accepted requests are recorded: a test asserting "nothing was lost" compares these against what
/// the client believes it delivered, so rejected or failed attempts must not count.
public struct AcceptedRequest: Sendable {
    public var operation: PersonalizeStandIn.Operation
    /// The raw request body, byte for byte.
    public var body: [UInt8]
    /// The records of the request, in request order.
    public var records: [AcceptedRecord]
    /// The `x-amzn-RequestId` the stand-in answered with.
    public var requestId: String

    public init(
        operation: PersonalizeStandIn.Operation, body: [UInt8], records: [AcceptedRecord], requestId: String = ""
    ) {
        self.operation = operation
        self.body = body
        self.records = records
        self.requestId = requestId
    }
}

/// One record (event, item, user, action or action interaction) of an accepted request, flattened with the
/// request-level members that identify it, so tests can compare sets of records without re-parsing bodies.
public struct AcceptedRecord: Sendable, Hashable {
    public var operation: PersonalizeStandIn.Operation
    /// The record's identity: `eventId` when present, else `itemId` (events), `userId` (users),
    /// `actionId` (actions, action interactions); empty when the record has none of these.
    public var id: String
    /// Request-level for PutEvents, record-level for users and action interactions.
    public var userId: String?
    /// Request-level for PutEvents, record-level for action interactions.
    public var sessionId: String?
    public var trackingId: String?
    public var datasetArn: String?
    public var eventType: String?
    public var eventId: String?
    public var itemId: String?
    public var actionId: String?
    /// The record's JSON object re-serialized with sorted keys (empty when `recordBodies` is off).
    public var json: String

    public init(
        operation: PersonalizeStandIn.Operation, id: String, userId: String? = nil, sessionId: String? = nil,
        trackingId: String? = nil, datasetArn: String? = nil, eventType: String? = nil, eventId: String? = nil,
        itemId: String? = nil, actionId: String? = nil, json: String = ""
    ) {
        self.operation = operation
        self.id = id
        self.userId = userId
        self.sessionId = sessionId
        self.trackingId = trackingId
        self.datasetArn = datasetArn
        self.eventType = eventType
        self.eventId = eventId
        self.itemId = itemId
        self.actionId = actionId
        self.json = json
    }
}
