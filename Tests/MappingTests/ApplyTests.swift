import JSON
import PersonalizeModel
import Testing

@testable import Mapping

/// Matching, multiple outputs, sources and the API limits enforced on every output.
@Suite struct ApplyTests {
    static let shop = #"""
        {"clicks": {"target": "event", "trackingId": "T", "sources": ["web"], "when": {"field": "type", "equals": "click"},
           "fields": {"userId": "user.id", "sessionId": "sid", "eventType": {"const": "click"}, "sentAt": "ts",
             "itemId": "product.id", "impression": "shown"}},
         "catalog": {"target": "item", "datasetArn": "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS",
           "when": {"field": "product.id", "exists": true},
           "fields": {"itemId": "product.id", "properties": {"PRICE": "product.price"}}},
         "people": {"target": "user", "datasetArn": "arn:aws:personalize:us-east-1:123456789012:dataset/shop/USERS",
           "when": {"field": "type", "equals": "signup"}, "fields": {"userId": "user.id"}},
         "actions": {"target": "action", "datasetArn": "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ACTIONS",
           "when": {"field": "type", "equals": "offer"}, "fields": {"actionId": "offer"}}}
        """#

    @Test func oneRecordFeedsSeveralMappings() throws {
        let m = try Fixture.mapper(Self.shop)
        let results = try Fixture.apply(
            m, #"{"type": "click", "user": {"id": "u"}, "sid": "s", "ts": 1, "product": {"id": "p", "price": 9.5}}"#)
        #expect(results.map(\.mapping) == ["clicks", "catalog"])
        #expect(
            results[1]
                == .record(
                    mapping: "catalog",
                    .item(
                        datasetArn: "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS",
                        Item(itemId: "p", properties: #"{"price":9.5}"#))))
    }

    @Test func sourcesRestrictMappings() throws {
        let m = try Fixture.mapper(Self.shop)
        let line = #"{"type": "click", "sid": "s", "ts": 1, "product": {"id": "p"}}"#
        var ctx = Fixture.context
        ctx.sourceName = "api"
        #expect(try Fixture.apply(m, line, context: ctx).map(\.mapping) == ["catalog"])
        #expect(try Fixture.apply(m, #"{"type": "other"}"#).isEmpty)
    }

    @Test func usersAndActions() throws {
        let m = try Fixture.mapper(Self.shop)
        #expect(
            try Fixture.apply(m, #"{"type": "signup", "user": {"id": 42}}"#) == [
                .record(
                    mapping: "people",
                    .user(
                        datasetArn: "arn:aws:personalize:us-east-1:123456789012:dataset/shop/USERS", User(userId: "42"))
                )
            ])
        guard case .record(_, .action(_, let a)) = try Fixture.apply(m, #"{"type": "offer", "offer": "o1"}"#).first
        else {
            throw Fixture.Stop()
        }
        #expect(a.actionId == "o1")
    }

    @Test func overLongItemIdIsALimitFailure() throws {
        let m = try Fixture.mapper(Self.shop)
        let long = String(repeating: "x", count: 300)
        let results = try Fixture.apply(m, #"{"type": "click", "sid": "s", "ts": 1, "product": {"id": "\#(long)"}}"#)
        let expected = MappingFailure(field: "itemId", reason: "is 300 characters, the limit is 256", kind: .limit)
        #expect(results == [.failure(mapping: "clicks", expected), .failure(mapping: "catalog", expected)])
    }

    @Test(arguments: [("truncate", 25), ("deadLetter", 0)])
    func impressionOverflow(policy: String, kept: Int) throws {
        let config = Fixture.event(#""impression": "shown""#, extra: #""impressionOverflow": "\#(policy)""#)
        let m = try Fixture.mapper(config)
        let ids = (1...30).map { "\"i\($0)\"" }.joined(separator: ",")
        let results = try Fixture.apply(m, #"{"sid": "s", "ts": 1, "shown": [\#(ids)]}"#)
        if kept > 0 {
            guard case .record(_, .event(_, _, _, let e)) = results.first else { throw Fixture.Stop() }
            #expect(e.impression == (1...25).map { "i\($0)" })
        } else {
            #expect(
                results == [
                    .failure(
                        mapping: "m",
                        MappingFailure(
                            field: "impression", reason: "has 30 ids, it must have 1 to 25", kind: .limit))
                ])
            #expect(results[0].failureDescription == "impression: has 30 ids, it must have 1 to 25")
        }
    }

    @Test func otherLimits() throws {
        let m = try Fixture.mapper(
            Fixture.event(
                #""recommendationId": "r", "metricAttribution": "c", "properties": {"note": "n"}"#))
        #expect(
            try Fixture.failure(m, #"{"sid": "s", "ts": 1, "r": "\#(String(repeating: "r", count: 41))"}"#).description
                == "recommendationId: is 41 characters, the limit is 40")
        #expect(
            try Fixture.failure(m, #"{"sid": "s", "ts": 1, "c": "caf\u00e9"}"#).description
                == "metricAttribution.eventAttributionSource: must be printable ASCII")
        // The API's pattern needs a visible character: spaces only are refused before sending.
        #expect(
            try Fixture.failure(m, #"{"sid": "s", "ts": 1, "c": "   "}"#).description
                == "metricAttribution.eventAttributionSource: must have a visible character, not only spaces")
        #expect(
            try Fixture.failure(m, #"{"sid": "s", "ts": 1, "n": "\#(String(repeating: "n", count: 1100))"}"#)
                .description
                == "properties: is 1111 characters, the limit is 1024")
        // Limits count Unicode scalars, not bytes: 256 two-byte characters are fine.
        let wide = String(repeating: "é", count: 256)
        #expect(try Fixture.apply(m, #"{"sid": "\#(wide)", "ts": 1}"#).count == 1)
        #expect(
            try Fixture.failure(m, #"{"sid": "\#(wide)é", "ts": 1}"#).description
                == "sessionId: is 257 characters, the limit is 256")
    }
}

extension MappingResult {
    var failureDescription: String? {
        if case .failure(_, let f) = self { return f.description }
        return nil
    }
}
