extension PersonalizeStandIn {
    /// The five Personalize Events operations the stand-in routes.
    ///
    /// Nested (rather than a top-level `Operation`) so tests that import both `PersonalizeModel` and
    /// `TestSupport` see no ambiguity. Deliberately not shared with `PersonalizeModel`: the stand-in is an
    /// independent reading of the service model.
    public enum Operation: String, Sendable, Hashable, CaseIterable {
        case putEvents = "PutEvents"
        case putItems = "PutItems"
        case putUsers = "PutUsers"
        case putActions = "PutActions"
        case putActionInteractions = "PutActionInteractions"

        /// The request path the service model binds the operation to (`POST` only).
        public var path: String {
            switch self {
            case .putEvents: "/events"
            case .putItems: "/items"
            case .putUsers: "/users"
            case .putActions: "/actions"
            case .putActionInteractions: "/action-interactions"
            }
        }

        /// The operation posted to `path`, if any.
        public init?(path: Substring) {
            switch path {
            case "/events": self = .putEvents
            case "/items": self = .putItems
            case "/users": self = .putUsers
            case "/actions": self = .putActions
            case "/action-interactions": self = .putActionInteractions
            default: return nil
            }
        }

        /// The request member holding the records (a list of 1...10).
        var listMember: String {
            switch self {
            case .putEvents: "eventList"
            case .putItems: "items"
            case .putUsers: "users"
            case .putActions: "actions"
            case .putActionInteractions: "actionInteractions"
            }
        }
    }
}
