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
