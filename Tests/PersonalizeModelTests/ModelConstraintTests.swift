import Foundation
import JSON
import PersonalizeModel
import Testing

/// Every string and list member of botocore's Personalize Events model, with values at its length limits and
/// against its pattern, and the model's own verdict on each (Fixtures/make_model_constraints.py, from botocore):
/// `Record.violations()` must refuse exactly what the model refuses, so nothing the service would reject is sent and
/// nothing it would take is dead-lettered. A member the model gains fails the test until it is checked here.
@Suite struct ModelConstraintTests {
    static let arn = "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS"
    static let at = Timestamp(epochSeconds: 1_764_144_000)

    /// How to put a value into the member at each model path: a record otherwise valid.
    static let strings: [String: @Sendable (String) -> Record] = [
        "PutEvents.trackingId": {
            .event(trackingId: $0, userId: "u", sessionId: "s", Event(eventType: "e", sentAt: at))
        },
        "PutEvents.userId": { .event(trackingId: "t", userId: $0, sessionId: "s", Event(eventType: "e", sentAt: at)) },
        "PutEvents.sessionId": {
            .event(trackingId: "t", userId: "u", sessionId: $0, Event(eventType: "e", sentAt: at))
        },
        "PutEvents.eventList[].eventId": { event(Event(eventId: $0, eventType: "e", sentAt: at)) },
        "PutEvents.eventList[].eventType": { event(Event(eventType: $0, sentAt: at)) },
        "PutEvents.eventList[].itemId": { event(Event(eventType: "e", itemId: $0, sentAt: at)) },
        "PutEvents.eventList[].properties": { event(Event(eventType: "e", properties: $0, sentAt: at)) },
        "PutEvents.eventList[].recommendationId": { event(Event(eventType: "e", sentAt: at, recommendationId: $0)) },
        "PutEvents.eventList[].impression[]": { event(Event(eventType: "e", sentAt: at, impression: [$0])) },
        "PutEvents.eventList[].metricAttribution.eventAttributionSource": {
            event(Event(eventType: "e", sentAt: at, metricAttribution: MetricAttribution(eventAttributionSource: $0)))
        },
        "PutItems.datasetArn": { .item(datasetArn: $0, Item(itemId: "i")) },
        "PutItems.items[].itemId": { .item(datasetArn: arn, Item(itemId: $0)) },
        "PutItems.items[].properties": { .item(datasetArn: arn, Item(itemId: "i", properties: $0)) },
        "PutUsers.datasetArn": { .user(datasetArn: $0, User(userId: "u")) },
        "PutUsers.users[].userId": { .user(datasetArn: arn, User(userId: $0)) },
        "PutUsers.users[].properties": { .user(datasetArn: arn, User(userId: "u", properties: $0)) },
        "PutActions.datasetArn": { .action(datasetArn: $0, Action(actionId: "a")) },
        "PutActions.actions[].actionId": { .action(datasetArn: arn, Action(actionId: $0)) },
        "PutActions.actions[].properties": { .action(datasetArn: arn, Action(actionId: "a", properties: $0)) },
        "PutActionInteractions.trackingId": { .actionInteraction(trackingId: $0, anInteraction) },
        "PutActionInteractions.actionInteractions[].actionId": {
            interaction(ActionInteraction(actionId: $0, sessionId: "s", timestamp: at, eventType: "e"))
        },
        "PutActionInteractions.actionInteractions[].userId": {
            interaction(ActionInteraction(actionId: "a", userId: $0, sessionId: "s", timestamp: at, eventType: "e"))
        },
        "PutActionInteractions.actionInteractions[].sessionId": {
            interaction(ActionInteraction(actionId: "a", sessionId: $0, timestamp: at, eventType: "e"))
        },
        "PutActionInteractions.actionInteractions[].eventType": {
            interaction(ActionInteraction(actionId: "a", sessionId: "s", timestamp: at, eventType: $0))
        },
        "PutActionInteractions.actionInteractions[].eventId": {
            interaction(ActionInteraction(actionId: "a", sessionId: "s", timestamp: at, eventType: "e", eventId: $0))
        },
        "PutActionInteractions.actionInteractions[].recommendationId": {
            interaction(
                ActionInteraction(actionId: "a", sessionId: "s", timestamp: at, eventType: "e", recommendationId: $0))
        },
        "PutActionInteractions.actionInteractions[].impression[]": {
            interaction(
                ActionInteraction(actionId: "a", sessionId: "s", timestamp: at, eventType: "e", impression: [$0]))
        },
        "PutActionInteractions.actionInteractions[].properties": {
            interaction(ActionInteraction(actionId: "a", sessionId: "s", timestamp: at, eventType: "e", properties: $0))
        },
    ]

    static let lists: [String: @Sendable (Int) -> Record] = [
        "PutEvents.eventList[].impression": { n in event(Event(eventType: "e", sentAt: at, impression: ids(n))) },
        "PutActionInteractions.actionInteractions[].impression": { n in
            interaction(
                ActionInteraction(actionId: "a", sessionId: "s", timestamp: at, eventType: "e", impression: ids(n)))
        },
    ]

    static func event(_ e: Event) -> Record { .event(trackingId: "t", userId: "u", sessionId: "s", e) }
    static let anInteraction = ActionInteraction(actionId: "a", sessionId: "s", timestamp: at, eventType: "e")
    static func interaction(_ a: ActionInteraction) -> Record {
        .actionInteraction(trackingId: "t", a)
    }
    static func ids(_ n: Int) -> [String] { (0..<n).map { "i\($0)" } }

    static func fixture() throws -> JSONValue {
        let url = try #require(
            Bundle.module.url(forResource: "model_constraints", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONParser.parse(Array(try Data(contentsOf: url)))
    }

    @Test func everyModelMemberIsCheckedAsTheModelChecksIt() throws {
        let document = try Self.fixture()
        let members = try #require(document["members"]?.arrayValue)
        var seen = Set<String>()
        var checked = 0
        for member in members {
            let path = try #require(member["path"]?.stringValue)
            seen.insert(path)
            for candidate in try #require(member["candidates"]?.arrayValue) {
                let valid = try #require(candidate["valid"]?.boolValue)
                let count = Int(candidate["count"]?.numberValue?.int64 ?? 0)
                let record: Record
                let shown: String
                if member["kind"]?.stringValue == "list" {
                    let make = try #require(Self.lists[path], "no list member \(path) on the Swift side")
                    record = make(count)
                    shown = "\(count) elements"
                } else {
                    let make = try #require(Self.strings[path], "no string member \(path) on the Swift side")
                    let text =
                        candidate["text"]?.stringValue
                        ?? (candidate["prefix"]?.stringValue ?? "")
                        + String(repeating: candidate["unit"]?.stringValue ?? "x", count: count)
                    record = make(text)
                    shown =
                        text.count > 40
                        ? "\(text.unicodeScalars.count) scalars of \(text.suffix(1).debugDescription)"
                        : text.debugDescription
                }
                let violations = record.violations()
                #expect(
                    violations.isEmpty == valid,
                    "\(path) = \(shown): model says \(valid ? "valid" : "invalid"), Swift found \(violations)")
                checked += 1
            }
        }
        #expect(seen == Set(Self.strings.keys).union(Self.lists.keys), "the model's members and the Swift table differ")
        #expect(checked > 500)
        for member in try #require(document["recordsPerCall"]?.objectValue) {
            #expect(member.value.numberValue?.int64 == Int64(Limits.maxRecordsPerCall), "\(member.key)")
        }
    }
}
