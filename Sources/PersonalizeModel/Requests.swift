/// The five Personalize Events operations and where they are posted.
public enum Operation: String, Sendable, Hashable, CaseIterable, Codable {
    case putEvents = "PutEvents"
    case putItems = "PutItems"
    case putUsers = "PutUsers"
    case putActions = "PutActions"
    case putActionInteractions = "PutActionInteractions"

    /// The request path of the operation (every operation is a `POST` with a JSON body).
    public var path: String {
        switch self {
        case .putEvents: "/events"
        case .putItems: "/items"
        case .putUsers: "/users"
        case .putActions: "/actions"
        case .putActionInteractions: "/action-interactions"
        }
    }
}

/// PutEvents: up to 10 events of one user and session.
public struct PutEventsRequest: Sendable, Hashable, Codable {
    public var trackingId: String
    public var userId: String?
    public var sessionId: String
    public var eventList: [Event]

    public init(trackingId: String, userId: String? = nil, sessionId: String, eventList: [Event]) {
        self.trackingId = trackingId
        self.userId = userId
        self.sessionId = sessionId
        self.eventList = eventList
    }
}

/// PutItems: up to 10 items of one Items dataset.
public struct PutItemsRequest: Sendable, Hashable, Codable {
    public var datasetArn: String
    public var items: [Item]

    public init(datasetArn: String, items: [Item]) {
        self.datasetArn = datasetArn
        self.items = items
    }
}

/// PutUsers: up to 10 users of one Users dataset.
public struct PutUsersRequest: Sendable, Hashable, Codable {
    public var datasetArn: String
    public var users: [User]

    public init(datasetArn: String, users: [User]) {
        self.datasetArn = datasetArn
        self.users = users
    }
}

/// PutActions: up to 10 actions of one Actions dataset.
public struct PutActionsRequest: Sendable, Hashable, Codable {
    public var datasetArn: String
    public var actions: [Action]

    public init(datasetArn: String, actions: [Action]) {
        self.datasetArn = datasetArn
        self.actions = actions
    }
}

/// PutActionInteractions: up to 10 action interactions for one event tracker.
public struct PutActionInteractionsRequest: Sendable, Hashable, Codable {
    public var trackingId: String
    public var actionInteractions: [ActionInteraction]

    public init(trackingId: String, actionInteractions: [ActionInteraction]) {
        self.trackingId = trackingId
        self.actionInteractions = actionInteractions
    }
}
