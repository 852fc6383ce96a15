/// The input shapes of the Personalize Events service model (botocore `personalize-events/2018-03-22`),
/// transcribed independently of `PersonalizeModel` so the stand-in can catch that module's mistakes.
///
/// String lengths count Unicode scalars, as Smithy's `@length` does.
indirect enum ModelShape: Sendable {
    case string(min: Int, max: Int, format: StringFormat)
    /// A JSON number (Smithy `timestamp` in epoch seconds, or `float`); booleans and strings are refused.
    case number(what: String)
    case list(member: ModelShape, min: Int, max: Int)
    case structure(StructureShape)

    enum StringFormat: Sendable {
        case plain
        /// A `jsonvalue` string whose content must be a JSON object; keys in `reservedKeys` (lower-cased)
        /// are refused.
        case jsonObject(reservedKeys: Set<String>)
        /// `arn:([a-z\d-]+):personalize:.*:.*:.+`
        case datasetArn
        /// `^[\x20-\x7E]*[\x21-\x7E]+[\x20-\x7E]*$`
        case printableASCII
    }
}

/// A structure shape: its members and which of them are required.
struct StructureShape: Sendable {
    var members: [String: ModelShape]
    var required: [String]
}

extension ModelShape {
    private static let id256 = ModelShape.string(min: 1, max: 256, format: .plain)
    private static let recommendationId = ModelShape.string(min: 1, max: 40, format: .plain)
    private static let date = ModelShape.number(what: "a JSON number of epoch seconds")
    private static let impression = ModelShape.list(member: id256, min: 1, max: 25)
    private static let reservedEventKeys: Set<String> = [
        "userid", "sessionid", "eventtype", "timestamp", "recommendationid", "impression",
    ]

    private static func properties(max: Int, reserved: Set<String> = []) -> ModelShape {
        .string(min: 1, max: max, format: .jsonObject(reservedKeys: reserved))
    }

    private static let datasetArn = ModelShape.string(min: 0, max: 256, format: .datasetArn)

    static let event = ModelShape.structure(
        StructureShape(
            members: [
                "eventId": id256, "eventType": id256, "eventValue": .number(what: "a JSON number"), "itemId": id256,
                "properties": properties(max: 1024, reserved: reservedEventKeys), "sentAt": date,
                "recommendationId": recommendationId, "impression": impression,
                "metricAttribution": .structure(
                    StructureShape(
                        members: ["eventAttributionSource": .string(min: 1, max: 1024, format: .printableASCII)],
                        required: ["eventAttributionSource"])),
            ],
            required: ["eventType", "sentAt"]))

    static let actionInteraction = ModelShape.structure(
        StructureShape(
            members: [
                "actionId": id256, "userId": id256, "sessionId": id256, "timestamp": date, "eventType": id256,
                "eventId": id256, "recommendationId": recommendationId, "impression": impression,
                "properties": properties(max: 1024),
            ],
            required: ["actionId", "sessionId", "timestamp", "eventType"]))

    private static func record(id: String, propertiesMax: Int) -> ModelShape {
        .structure(StructureShape(members: [id: id256, "properties": properties(max: propertiesMax)], required: [id]))
    }

    /// The input shape of `operation`.
    static func input(of operation: PersonalizeStandIn.Operation) -> ModelShape {
        switch operation {
        case .putEvents: putEvents
        case .putItems: putItems
        case .putUsers: putUsers
        case .putActions: putActions
        case .putActionInteractions: putActionInteractions
        }
    }

    private static let putEvents = ModelShape.structure(
        StructureShape(
            members: [
                "trackingId": id256, "userId": id256, "sessionId": id256,
                "eventList": .list(member: event, min: 1, max: 10),
            ],
            required: ["trackingId", "sessionId", "eventList"]))

    private static let putItems = ModelShape.structure(
        StructureShape(
            members: [
                "datasetArn": datasetArn,
                "items": .list(member: record(id: "itemId", propertiesMax: 32_000), min: 1, max: 10),
            ],
            required: ["datasetArn", "items"]))

    private static let putUsers = ModelShape.structure(
        StructureShape(
            members: [
                "datasetArn": datasetArn,
                "users": .list(member: record(id: "userId", propertiesMax: 24_000), min: 1, max: 10),
            ],
            required: ["datasetArn", "users"]))

    private static let putActions = ModelShape.structure(
        StructureShape(
            members: [
                "datasetArn": datasetArn,
                "actions": .list(member: record(id: "actionId", propertiesMax: 32_000), min: 1, max: 10),
            ],
            required: ["datasetArn", "actions"]))

    private static let putActionInteractions = ModelShape.structure(
        StructureShape(
            members: ["trackingId": id256, "actionInteractions": .list(member: actionInteraction, min: 1, max: 10)],
            required: ["trackingId", "actionInteractions"]))
}
