import PersonalizeModel

/// A request as botocore's parameters spell it: the `Codable` twin of ``RequestBody``, the oracle the tests compare
/// the production writers with (the envelope's ``RequestBody/openList(_:capacity:)`` and the records' wire writers).
protocol RequestEnvelope: Codable {
    var key: BatchKey { get }
    var records: [Record] { get }
}

extension RequestEnvelope {
    /// The body production writes for this request.
    var body: [UInt8] { RequestBody(key: key, records: records).body }
}

/// PutEvents: up to 10 events of one user and session.
struct PutEventsRequest: RequestEnvelope {
    var trackingId: String
    var userId: String?
    var sessionId: String
    var eventList: [Event]

    var key: BatchKey { BatchKey(operation: .putEvents, destination: trackingId, userId: userId, sessionId: sessionId) }
    var records: [Record] {
        eventList.map { .event(trackingId: trackingId, userId: userId, sessionId: sessionId, $0) }
    }
}

/// PutItems: up to 10 items of one Items dataset.
struct PutItemsRequest: RequestEnvelope {
    var datasetArn: String
    var items: [Item]

    var key: BatchKey { BatchKey(operation: .putItems, destination: datasetArn) }
    var records: [Record] { items.map { .item(datasetArn: datasetArn, $0) } }
}

/// PutUsers: up to 10 users of one Users dataset.
struct PutUsersRequest: RequestEnvelope {
    var datasetArn: String
    var users: [User]

    var key: BatchKey { BatchKey(operation: .putUsers, destination: datasetArn) }
    var records: [Record] { users.map { .user(datasetArn: datasetArn, $0) } }
}

/// PutActions: up to 10 actions of one Actions dataset.
struct PutActionsRequest: RequestEnvelope {
    var datasetArn: String
    var actions: [Action]

    var key: BatchKey { BatchKey(operation: .putActions, destination: datasetArn) }
    var records: [Record] { actions.map { .action(datasetArn: datasetArn, $0) } }
}

/// PutActionInteractions: up to 10 action interactions for one event tracker.
struct PutActionInteractionsRequest: RequestEnvelope {
    var trackingId: String
    var actionInteractions: [ActionInteraction]

    var key: BatchKey { BatchKey(operation: .putActionInteractions, destination: trackingId) }
    var records: [Record] { actionInteractions.map { .actionInteraction(trackingId: trackingId, $0) } }
}
