import JSON
import Testing

@testable import Mapping

/// Start-up validation: every problem reported at once, each with its JSON path and a way to fix it.
@Suite struct ConfigErrorTests {
    @Test func manyProblemsAtOnce() throws {
        let config = #"""
            {
              "clicks": {"target": "event", "trackingId": "t", "sources": ["web", "mobile"],
                "fields": {"userId": "user..id", "eventType": "type", "itemId": {"path": "x", "default": ""},
                  "sentAt": {"path": "ts", "format": "isoo8601", "timeZone": "Europe/Pariss"},
                  "eventValu": "v", "actionId": "a",
                  "properties": {"userId": "u", "SESSION_ID": "s", "NUMBER_OF_RATINGS": "n", "numberOfRatings": "m"}},
                "impressionOverflow": "cut", "sesion": {}},
              "items": {"target": "item", "datasetArn": "arn:aws:s3:::bucket", "fields": {"userId": "u"}},
              "users": {"target": "usr"},
              "acts": {"target": "actionInteraction", "trackingId": "t",
                "fields": {"actionId": {"const": 1, "path": "a"}, "eventId": {"derive": false, "default": "x"}, "timestamp": "ts",
                  "eventType": {"template": "{a"}, "sessionId": {"path": "s", "fallback": "sessions"}}}
            }
            """#
        let issues = try Fixture.issues(config)
        let expected = [
            #"mappings.clicks.sources[1]: unknown source "mobile"; configured sources are "web""#,
            #"mappings.clicks.fields.userId: invalid path: empty member name at character 6 (in "user..id")"#,
            "mappings.clicks.fields.itemId.default: itemId must not be empty",
            #"mappings.clicks.fields.sentAt.timeZone: unknown time zone "Europe/Pariss"; use an IANA name such as "Europe/Paris" or "UTC""#,
            #"mappings.clicks.fields.sentAt.format: unknown format "isoo8601"; use one of "auto", "iso8601", "epoch", "epochSeconds", "epochMillis", "epochMicros", "epochNanos" or a pattern such as "yyyy-MM-dd HH:mm:ss""#,
            "mappings.clicks.fields.actionId: is not a field of event records; they take trackingId, userId, sessionId, eventId, eventType, eventValue, itemId, sentAt, properties, recommendationId, impression, metricAttribution",
            #"mappings.clicks.fields.properties.userId: "userId" is reserved for events; map it as a field, or rename the property"#,
            #"mappings.clicks.fields.properties.SESSION_ID: "sessionId" is reserved for events; map it as a field, or rename the property"#,
            #"mappings.clicks.fields.properties.numberOfRatings: becomes "numberOfRatings", as "NUMBER_OF_RATINGS" does; rename one of them"#,
            #"mappings.clicks.fields.eventValu: unknown key; did you mean "eventValue"?"#,
            #"mappings.clicks.impressionOverflow: must be one of "truncate", "deadLetter", found "cut""#,
            "mappings.clicks.fields: event mappings must map sessionId (or \"session\" to sessionize)",
            #"mappings.clicks.sesion: unknown key; did you mean "session"?"#,
            #"mappings.items.datasetArn: is not a Personalize dataset ARN; expected one such as "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS""#,
            "mappings.items.fields.userId: is not a field of item records; they take itemId, properties",
            "mappings.items.fields: item mappings must map itemId",
            #"mappings.users.target: unknown target "usr"; use one of "event", "item", "user", "action", "actionInteraction""#,
            #"mappings.acts.fields.actionId: a rule takes only one of "path", "paths", "const", "template", "derive", found "path" and "const""#,
            #"mappings.acts.fields.eventId: {"derive": false} sends no eventId and takes no other keys; remove them"#,
            "mappings.acts.fields.eventType.template: unclosed '{' in the template; write {{ for a brace",
            #"mappings.acts.fields.sessionId.fallback: must be "session" (sessionize when the record has no session id)"#,
        ]
        #expect(issues.count == expected.count, "\(issues)")
        for (got, want) in zip(issues, expected) { #expect(got == want) }
    }

    @Test(arguments: [
        (
            #"{"m": {"target": "item", "datasetArn": "arn:aws:personalize:us-east-1:1:dataset/x", "fields": {"itemId": {"const": "\#(String(repeating: "x", count: 300))"}}}}"#,
            "mappings.m.fields.itemId.const: itemId is 300 characters, the limit is 256"
        ),
        (
            #"{"m": {"target": "item", "fields": {"itemId": "id"}}}"#,
            #"mappings.m.datasetArn: is required for item mappings; give the ARN such as "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS""#
        ),
        (
            #"{"m": {"target": "user", "datasetArn": "arn:aws:personalize:us-east-1:1:dataset/x", "trackingId": "t", "fields": {"userId": "u"}}}"#,
            "mappings.m.trackingId: user mappings send to a dataset; use datasetArn"
        ),
        (
            #"{"m": {"fields": {}}}"#,
            #"mappings.m.target: is required; use one of "event", "item", "user", "action", "actionInteraction""#
        ),
        (#"{}"#, "mappings: define at least one mapping"),
        (#"[]"#, "mappings: expected an object, found an array"),
        (
            #"{"m": {"target": "event", "trackingId": "t", "fields": {"sessionId": "s", "eventType": "e", "sentAt": "t", "recommendationId": {"const": "\#(String(repeating: "r", count: 41))"}}}}"#,
            "mappings.m.fields.recommendationId.const: recommendationId is 41 characters, the limit is 40"
        ),
        (
            #"{"m": {"target": "event", "trackingId": "t", "fields": {"sessionId": "s", "eventType": "e", "sentAt": {"const": "soon"}}}}"#,
            #"mappings.m.fields.sentAt.const: expected an ISO 8601 time or an epoch number, found "soon""#
        ),
        (
            #"{"m": {"target": "event", "trackingId": "t", "fields": {"sessionId": "s", "eventType": "e", "sentAt": "t", "eventValue": {"const": "x"}}}}"#,
            #"mappings.m.fields.eventValue.const: eventValue must be a finite number, found "x""#
        ),
        (
            #"{"m": {"target": "event", "trackingId": "t", "fields": {"sessionId": "s", "eventType": "e", "sentAt": "t", "itemId": {"path": "i", "format": "iso8601"}}}}"#,
            "mappings.m.fields.itemId.format: only time fields (sentAt, timestamp) take a format or time zone"
        ),
        (
            #"{"m": {"target": "event", "trackingId": "t", "fields": {"sessionId": "s", "eventType": "e", "sentAt": "t", "itemId": {"derive": true}}}}"#,
            "mappings.m.fields.itemId.derive: only eventId can be derived"
        ),
        (
            #"{"m": {"target": "event", "trackingId": "t", "fields": {"trackingId": "x", "sessionId": "s", "eventType": "e", "sentAt": "t"}}}"#,
            "mappings.m.fields.trackingId: trackingId is also set at the top of the mapping; keep one of them"
        ),
        (
            #"{"m": {"target": "event", "trackingId": "t", "fields": {"sessionId": "s", "eventType": {"path": "e", "optional": true}, "sentAt": "t"}}}"#,
            "mappings.m.fields.eventType.optional: eventType is required by the API and cannot be optional"
        ),
        (
            #"{"m": {"target": "item", "datasetArn": "arn:aws:personalize:us-east-1:1:dataset/x", "session": {"gapMinutes": 5}, "fields": {"itemId": "i"}}}"#,
            "mappings.m.session: only event and actionInteraction mappings have sessions"
        ),
        (
            #"{"m": {"target": "event", "trackingId": "t", "session": {"gapMinutes": 0}, "fields": {"eventType": "e", "sentAt": "t"}}}"#,
            "mappings.m.session.gapMinutes: must be at least 1, found 0"
        ),
        (
            #"{"m": {"target": "event", "trackingId": "t", "fields": {"sessionId": "s", "eventType": "e", "sentAt": "t", "impression": {"const": ["a", true]}}}}"#,
            "mappings.m.fields.impression.const[1]: must be a string, found a boolean"
        ),
    ])
    func singleProblem(config: String, expected: String) throws {
        #expect(try Fixture.issues(config) == [expected])
    }

    @Test func eventWithoutTrackingIdOrRequiredFields() throws {
        #expect(
            try Fixture.issues(#"{"m": {"target": "event", "fields": {"userId": "u"}}}"#) == [
                "mappings.m.fields: event mappings must map trackingId, sessionId (or \"session\" to sessionize), eventType, sentAt"
            ])
    }

    @Test func validConfigsParseClean() throws {
        let set = try MappingSet.parse(
            #"""
            {"clicks": {"target": "event", "trackingId": "t", "sources": ["web"], "when": {"field": "type", "equals": "click"},
               "fields": {"sessionId": {"paths": ["session.id", "sid"], "fallback": "session"}, "eventType": "type",
                 "sentAt": {"path": "ts", "format": "dd/MMM/yyyy:HH:mm:ss Z"}, "eventId": {"derive": true},
                 "impression": {"path": "shown", "transform": [{"split": ","}]}, "userId": {"path": "u", "optional": true}},
               "session": {"gapMinutes": 30, "maxUsers": 1000}, "impressionOverflow": "truncate"},
             "items": {"target": "item", "datasetArn": "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS",
               "fields": {"itemId": "product.id", "properties": {"PRICE": "price"}}},
             "acts": {"target": "action", "datasetArn": "arn:aws:personalize:eu-west-1:123456789012:dataset/a/ACTIONS",
               "fields": {"actionId": "a"}}}
            """#, sourceNames: ["web"], unmatched: .deadLetter)
        #expect(set.names == ["clicks", "items", "acts"])
        #expect(set.unmatched == .deadLetter)
        #expect(set.targets["items"] == .item)
    }

    @Test(arguments: [
        ("null", UnmatchedPolicy.skip, 0), (#""skip""#, .skip, 0), (#""deadLetter""#, .deadLetter, 0),
        (#""drop""#, .skip, 1),
    ])
    func unmatchedPolicy(raw: String, expected: UnmatchedPolicy, issueCount: Int) throws {
        let reader = ConfigReader()
        #expect(UnmatchedPolicy.parse(try JSONParser.parse(raw), reader: reader) == expected)
        #expect(reader.issues.count == issueCount)
    }

    @Test(arguments: [
        ("NUMBER_OF_RATINGS", "numberOfRatings"), ("PRICE", "price"), ("number_of_ratings", "numberOfRatings"),
        ("numberOfRatings", "numberOfRatings"), ("price", "price"), ("CATEGORY_L2", "categoryL2"),
    ])
    func propertyNamesBecomeCamelCase(name: String, expected: String) {
        #expect(PropertyName.camelCase(name) == expected)
    }
}
