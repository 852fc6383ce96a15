import JSON
import PersonalizeModel
import Testing

@Suite struct LimitsTests {
    static let arn = "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS"

    func event(_ body: (inout Event) -> Void = { _ in }) -> Record {
        var e = Event(eventType: "click", sentAt: Timestamp(epochSeconds: 1))
        body(&e)
        return .event(trackingId: "t", userId: "u", sessionId: "s", e)
    }

    @Test func validRecordsHaveNoViolations() {
        #expect(event().violations().isEmpty)
        #expect(Record.item(datasetArn: Self.arn, Item(itemId: "i", properties: #"{"a":1}"#)).violations().isEmpty)
        #expect(Record.user(datasetArn: Self.arn, User(userId: "u")).violations().isEmpty)
    }

    @Test func lengthsAreCountedInUnicodeScalars() {
        let exactly256 = String(repeating: "é", count: 256)  // 512 UTF-8 bytes, 256 characters
        #expect(event { $0.itemId = exactly256 }.violations().isEmpty)
        let fields = event { $0.itemId = exactly256 + "x" }.violations().map(\.field)
        #expect(fields == ["itemId"])
    }

    @Test func everyLimitIsNamed() {
        let v = event {
            $0.eventType = ""
            $0.recommendationId = String(repeating: "r", count: 41)
            $0.impression = Array(repeating: "i", count: 26)
            $0.properties = #"{"userId":"x"}"#
            $0.eventValue = .infinity
            $0.metricAttribution = MetricAttribution(eventAttributionSource: "caf\u{e9}")
        }.violations().map(\.field)
        #expect(v.contains("eventType"))
        #expect(v.contains("recommendationId"))
        #expect(v.contains("impression"))
        #expect(v.contains("properties.userId"))
        #expect(v.contains("eventValue"))
        #expect(v.contains("metricAttribution.eventAttributionSource"))
    }

    /// Reserved event property names are found as top-level keys in any case and position, also when spelled with
    /// escapes; the same words as values, in nested objects or as parts of longer keys are not reserved names.
    @Test(arguments: [
        (#"{"userId":"x"}"#, ["properties.userId"]),
        (#"{"a":1,"EVENTTYPE":2}"#, ["properties.EVENTTYPE"]),
        (#"{"a":"userId","b":{"itemId":1},"itemIdx":2,"xitemId":3}"#, []),
        (#"{"\u0075serId":1}"#, ["properties.userId"]),
        (#"{"a":"\"","SessionId":true}"#, ["properties.SessionId"]),
        (#"{"device":"ios","segment":"vip","tsNs":1}"#, []),
        (#"{}"#, []),
    ])
    func reservedPropertyNames(_ properties: String, _ fields: [String]) {
        #expect(event { $0.properties = properties }.violations().map(\.field) == fields)
    }

    @Test func propertiesSizePerType() {
        let big = #"{"a":""# + String(repeating: "x", count: 1100) + #""}"#
        #expect(!event { $0.properties = big }.violations().isEmpty)
        #expect(Record.item(datasetArn: Self.arn, Item(itemId: "i", properties: big)).violations().isEmpty)
        let huge = #"{"a":""# + String(repeating: "x", count: 24_001) + #""}"#
        #expect(
            Record.user(datasetArn: Self.arn, User(userId: "u", properties: huge)).violations().map(\.field) == [
                "properties"
            ])
    }

    @Test(arguments: [
        ("arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS", true),
        ("arn:aws-cn:personalize:cn-north-1:1:dataset/x", true),
        ("arn:aws:s3:us-east-1:1:bucket", false),
        ("arn:AWS:personalize:us-east-1:1:x", false),
        ("arn:aws:personalize:us-east-1:1:", false),
        ("not-an-arn", false),
    ])
    func datasetArnPattern(_ arn: String, _ valid: Bool) {
        #expect(Limits.isDatasetArn(arn) == valid)
    }

    @Test func batchKeysSeparateUsersAndSessions() {
        let a = Record.event(
            trackingId: "t", userId: "u1", sessionId: "s", Event(eventType: "x", sentAt: Timestamp(epochSeconds: 0)))
        let b = Record.event(
            trackingId: "t", userId: "u2", sessionId: "s", Event(eventType: "x", sentAt: Timestamp(epochSeconds: 0)))
        #expect(a.batchKey != b.batchKey)
        #expect(!a.batchKey.description.contains("u1"))  // no personal data in log lines
    }
}
