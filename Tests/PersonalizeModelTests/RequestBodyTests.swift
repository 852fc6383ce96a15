import Foundation
import JSON
import PersonalizeModel
import Testing

/// `RequestBody` writes the envelope and its records straight into the body (the fast path): the body must say what
/// the `Codable` request (``RequestEnvelope``, the oracle) says, encoded by `JSONEncoder`.
@Suite struct RequestBodyTests {
    /// `request`'s body and its oracle's JSON, parsed: the same members with the same values (`JSONEncoder` orders
    /// members its own way).
    static func expectOracle(
        _ request: some RequestEnvelope, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let ours = try JSONSerialization.jsonObject(with: Data(request.body)) as? NSDictionary
        let oracle = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(request)) as? NSDictionary
        #expect(ours != nil && ours == oracle, sourceLocation: sourceLocation)
    }

    static let events = [
        Event(
            eventId: "e1", eventType: "click", eventValue: 2.5, itemId: "i\"1", properties: #"{"a":"é\n"}"#,
            sentAt: Timestamp(epochMilliseconds: 1_705_322_096_999), recommendationId: "r", impression: ["a", "b"],
            metricAttribution: MetricAttribution(eventAttributionSource: "src")),
        Event(eventType: "view", sentAt: Timestamp(epochSeconds: 1)),
    ]

    @Test func bodiesMatchTheCodableOracle() throws {
        for userId in ["user\u{7}-1", nil] as [String?] {
            try Self.expectOracle(
                PutEventsRequest(trackingId: "T", userId: userId, sessionId: "s", eventList: Self.events))
        }
        let arn = "arn:aws:personalize:us-east-1:1:dataset/d/X"
        let items = [Item(itemId: "i1", properties: #"{"p":1}"#), Item(itemId: "i\\2")]
        try Self.expectOracle(PutItemsRequest(datasetArn: arn, items: items))
        let users = [User(userId: "u1", properties: #"{"p":"x"}"#), User(userId: "u2")]
        try Self.expectOracle(PutUsersRequest(datasetArn: arn, users: users))
        let actions = [Action(actionId: "a1"), Action(actionId: "a2", properties: "{}")]
        try Self.expectOracle(PutActionsRequest(datasetArn: arn, actions: actions))
        let interactions = [
            ActionInteraction(
                actionId: "a", userId: "u", sessionId: "s", timestamp: Timestamp(epochSeconds: 5), eventType: "Taken",
                eventId: "e", recommendationId: "r", impression: ["x"], properties: "{}"),
            ActionInteraction(
                actionId: "b", sessionId: "s", timestamp: Timestamp(epochSeconds: 6), eventType: "Viewed"),
        ]
        try Self.expectOracle(PutActionInteractionsRequest(trackingId: "T", actionInteractions: interactions))
    }

    /// Records encoded one at a time when they are mapped, then joined into a body, give the same bytes.
    @Test func joinedElementsEqualTheRecordsBody() {
        let arn = "arn:aws:personalize:us-east-1:1:dataset/d/X"
        let batches: [[Record]] = [
            Self.events.map { .event(trackingId: "T", userId: "u\"1", sessionId: "s", $0) },
            Self.events.map { .event(trackingId: "T", userId: nil, sessionId: "s", $0) },
            [
                .item(datasetArn: arn, Item(itemId: "i1", properties: #"{"p":1}"#)),
                .item(datasetArn: arn, Item(itemId: "i2")),
            ],
            [.user(datasetArn: arn, User(userId: "u1", properties: #"{"p":"x"}"#))],
            [
                .action(datasetArn: arn, Action(actionId: "a1")),
                .action(datasetArn: arn, Action(actionId: "a2", properties: "{}")),
            ],
            [
                .actionInteraction(
                    trackingId: "T",
                    ActionInteraction(
                        actionId: "a", userId: "u", sessionId: "s", timestamp: Timestamp(epochSeconds: 5),
                        eventType: "Taken",
                        eventId: "e", recommendationId: "r", impression: ["x"], properties: "{}"))
            ],
        ]
        for records in batches {
            let encoded = records.map(EncodedRecord.init)
            let key = records[0].batchKey
            #expect(encoded.allSatisfy { $0.key == key })
            let joined = RequestBody(key: key, elements: encoded.map(\.element))
            let direct = RequestBody(key: key, records: records)
            #expect(joined.operation == direct.operation)
            #expect(String(decoding: joined.body, as: UTF8.self) == String(decoding: direct.body, as: UTF8.self))
            // A batch narrowed after a rejection joins a part of the same elements.
            let part = RequestBody(key: key, elements: encoded.map(\.element)[1...])
            #expect(part.body == RequestBody(key: key, records: Array(records[1...])).body)
        }
    }

    /// Keys hash once when made; equality still compares every part.
    @Test func batchKeysCompareByEveryPart() {
        let base = BatchKey(operation: .putEvents, destination: "T", userId: "u", sessionId: "s")
        #expect(base == BatchKey(operation: .putEvents, destination: "T", userId: "u", sessionId: "s"))
        #expect(
            base.hashValue == BatchKey(operation: .putEvents, destination: "T", userId: "u", sessionId: "s").hashValue)
        let others = [
            BatchKey(operation: .putActionInteractions, destination: "T", userId: "u", sessionId: "s"),
            BatchKey(operation: .putEvents, destination: "T2", userId: "u", sessionId: "s"),
            BatchKey(operation: .putEvents, destination: "T", userId: nil, sessionId: "s"),
            BatchKey(operation: .putEvents, destination: "T", userId: "", sessionId: "s"),
            BatchKey(operation: .putEvents, destination: "T", userId: "u", sessionId: "s2"),
            BatchKey(operation: .putEvents, destination: "T", userId: "us", sessionId: ""),
        ]
        for other in others { #expect(base != other) }
        #expect(Set(others + [base] + others).count == others.count + 1)
    }

    @Test func escapingMatchesAByteAtATimeReference() {
        let samples = [
            "", "plain ascii longer than eight bytes", "quote\" backslash\\ nl\n cr\r tab\t bell\u{07} nul\u{0} é 😀",
            String(repeating: "\u{1F}a\"", count: 9), "12345678\"12345678\\", "é", "\u{7F}\u{80}",
        ]
        for s in samples {
            var reference: [UInt8] = [0x22]
            for b in s.utf8 {
                switch b {
                case 0x22: reference += [0x5C, 0x22]
                case 0x5C: reference += [0x5C, 0x5C]
                case 0x0A: reference += Array(#"\n"#.utf8)
                case 0x0D: reference += Array(#"\r"#.utf8)
                case 0x09: reference += Array(#"\t"#.utf8)
                case 0x08: reference += Array(#"\b"#.utf8)
                case 0x0C: reference += Array(#"\f"#.utf8)
                case 0..<0x20: reference += Array(String(format: "\\u%04x", b).utf8)
                default: reference.append(b)
                }
            }
            reference.append(0x22)
            var w = JSONWriter()
            w.string(s)
            #expect(w.bytes == reference, "\(s)")
        }
    }
}
