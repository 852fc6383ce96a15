import JSON
import PersonalizeModel
import Testing

@testable import Mapping

/// Events and action interactions get a derived id unless the mapping names one or opts out.
@Suite struct DerivedIdDefaultTests {
    static let line = #"{"sid": "s", "ts": 1700000000, "user": "u"}"#

    @Test func eventWithoutEventIdGetsTheDerivedOne() throws {
        let mapper = try Fixture.mapper(Fixture.event(#""userId": "user""#))
        let (_, _, event) = try Fixture.event(mapper, Self.line)
        #expect(event.eventId == Mapper.derivedEventId(context: Fixture.context, mapping: "m"))
        #expect(event.eventId?.count == 32)
    }

    @Test func deriveFalseSendsNone() throws {
        let mapper = try Fixture.mapper(Fixture.event(#""userId": "user", "eventId": {"derive": false}"#))
        let (_, _, event) = try Fixture.event(mapper, Self.line)
        #expect(event.eventId == nil)
    }

    @Test func aMappedEventIdIsKept() throws {
        let mapper = try Fixture.mapper(Fixture.event(#""userId": "user", "eventId": "user""#))
        let (_, _, event) = try Fixture.event(mapper, Self.line)
        #expect(event.eventId == "u")
    }

    @Test func actionInteractionsGetOneToo() throws {
        let mapper = try Fixture.mapper(
            #"""
            {"a": {"target": "actionInteraction", "trackingId": "\#(Fixture.tracking)",
              "fields": {"actionId": "user", "sessionId": "sid", "eventType": {"const": "Taken"}, "timestamp": "ts"}}}
            """#)
        let results = try Fixture.apply(mapper, Self.line)
        guard results.count == 1, case .record(_, .actionInteraction(_, let interaction)) = results[0] else {
            Issue.record("expected one action interaction, got \(results)")
            return
        }
        #expect(interaction.eventId == Mapper.derivedEventId(context: Fixture.context, mapping: "a"))
    }

    @Test func deriveFalseWithOtherKeysIsRefused() throws {
        let issues = try Fixture.issues(Fixture.event(#""eventId": {"derive": false, "optional": true}"#))
        #expect(
            issues == [
                #"mappings.m.fields.eventId: {"derive": false} sends no eventId and takes no other keys; remove them"#
            ])
    }

    @Test func itemsGetNoEventId() throws {
        let issues = try Fixture.issues(
            #"""
            {"i": {"target": "item", "datasetArn": "\#(Fixture.itemsArn)", "fields": {"itemId": "id"}}}
            """#)
        #expect(issues.isEmpty)
    }
}
