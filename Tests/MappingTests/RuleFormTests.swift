import JSON
import PersonalizeModel
import Testing

@testable import Mapping

/// Each rule form and value coercion, end to end through `Mapper.apply`.
@Suite struct RuleFormTests {
    static let base = #""sid": "s1", "ts": 1705322096"#

    @Test func stringShorthandAndNestedPaths() throws {
        let m = try Fixture.mapper(Fixture.event(#""userId": "user.id", "itemId": "p[\"item id\"]""#))
        let (u, s, e) = try Fixture.event(m, #"{\#(Self.base), "user": {"id": "u1"}, "p": {"item id": "i9"}}"#)
        #expect(u == "u1")
        #expect(s == "s1")
        #expect(e.itemId == "i9")
        #expect(e.eventType == "click")
        #expect(e.sentAt == Timestamp(epochSeconds: 1_705_322_096))
    }

    @Test(arguments: [
        (#"{"session": {"id": "a"}, "sid2": "b"}"#, "a"),
        (#"{"sid2": "b"}"#, "b"),
        (#"{"session": {"id": null}, "sid2": "b"}"#, "b"),
    ])
    func pathsFirstPresentWins(line: String, expected: String) throws {
        let config = """
            {"m": {"target": "event", "trackingId": "t", "fields": {"sessionId": {"paths": ["session.id", "sid2"]},
              "eventType": {"const": "click"}, "sentAt": {"const": 1705322096}}}}
            """
        let (_, s, _) = try Fixture.event(try Fixture.mapper(config), line)
        #expect(s == expected)
    }

    @Test func missingRequiredNamesEveryPathTried() throws {
        let config = """
            {"m": {"target": "event", "trackingId": "t", "fields": {"sessionId": {"paths": ["session.id", "sid", "s"]},
              "eventType": "type", "sentAt": "ts"}}}
            """
        let m = try Fixture.mapper(config)
        #expect(
            try Fixture.failure(m, #"{"type": "x", "ts": 1}"#).description
                == "sessionId: required, but session.id, sid and s are absent")
        let f = try Fixture.failure(m, #"{"sid": "s", "ts": 1}"#)
        #expect(f == MappingFailure(field: "eventType", reason: "required, but type is absent", kind: .missingField))
        #expect(
            try Fixture.failure(m, #"{"sid": "s", "ts": 1, "type": ""}"#).description
                == "eventType: required, but type is absent")
    }

    @Test func templatesInterpolateAndFallBackToDefault() throws {
        let m = try Fixture.mapper(
            Fixture.event(
                #""itemId": {"template": "{shop}:{p.id}-{{x}}", "default": "unknown"}"#))
        #expect(try Fixture.event(m, #"{\#(Self.base), "shop": "de", "p": {"id": 7}}"#).2.itemId == "de:7-{x}")
        #expect(try Fixture.event(m, #"{\#(Self.base), "shop": "de"}"#).2.itemId == "unknown")
        #expect(
            try Fixture.failure(m, #"{\#(Self.base), "shop": [1], "p": {"id": 7}}"#).description
                == #"itemId: template "{shop}:{p.id}-{{x}}": shop in the template is an array, expected a string or number"#
        )
    }

    @Test func constantsAndDefaults() throws {
        let m = try Fixture.mapper(
            Fixture.event(
                #""userId": {"path": "u", "default": "anonymous"}, "properties": {"device": {"const": "web"}, "n": {"path": "n", "default": 0}}"#
            ))
        let e = try Fixture.event(m, #"{\#(Self.base)}"#)
        #expect(e.userId == "anonymous")
        #expect(e.2.properties == #"{"device":"web","n":0}"#)
    }

    @Test func numbersBecomeIdsWithTheirLiteralDigits() throws {
        let m = try Fixture.mapper(Fixture.event(#""itemId": "id", "userId": "u""#))
        let e = try Fixture.event(m, #"{\#(Self.base), "id": 12345678901234567890, "u": 1.50}"#)
        #expect(e.2.itemId == "12345678901234567890")
        #expect(e.userId == "1.50")
    }

    @Test(arguments: [
        ("4.5", 4.5), (#""19.99""#, 19.99), ("1e2", 100.0), (#""-3""#, -3.0),
    ])
    func eventValueCoercion(raw: String, expected: Double) throws {
        let m = try Fixture.mapper(Fixture.event(#""eventValue": "v""#))
        #expect(try Fixture.event(m, #"{\#(Self.base), "v": \#(raw)}"#).2.eventValue == expected)
    }

    @Test(arguments: [
        (#""abc""#, #"eventValue: v: expected a finite number, found "abc""#),
        (#""NaN""#, #"eventValue: v: expected a finite number, found "NaN""#),
        ("1e999", "eventValue: v: expected a finite number, found 1e999"),
        ("true", "eventValue: v: expected a finite number, found true"),
        ("{}", "eventValue: v: expected a finite number, found an object"),
    ])
    func eventValueRejects(raw: String, expected: String) throws {
        let m = try Fixture.mapper(Fixture.event(#""eventValue": "v""#))
        let f = try Fixture.failure(m, #"{\#(Self.base), "v": \#(raw)}"#)
        #expect(f.description == expected)
        #expect(f.kind == .invalidValue)
    }

    @Test(arguments: [
        (#"{"userId": "u"}"#, "true", "userId: u: expected a string or number, found a boolean"),
        (#"{"userId": "u"}"#, #"{"a": 1}"#, "userId: u: expected a string or number, found an object"),
        (#"{"impression": "u"}"#, "[1, [2]]", "impression: u: expected ids (strings or numbers), found an array"),
        (
            #"{"properties": {"x": "u"}}"#, #"{"a": 1}"#,
            "properties.x: u: expected a string, number, boolean or list, found an object"
        ),
    ])
    func wrongTypesNameFieldPathAndFound(fields: String, raw: String, expected: String) throws {
        let f = String(fields.dropFirst().dropLast())
        let m = try Fixture.mapper(Fixture.event(f))
        #expect(try Fixture.failure(m, #"{\#(Self.base), "u": \#(raw)}"#).description == expected)
    }

    @Test func impressionsFromListsAndSplitStrings() throws {
        let m = try Fixture.mapper(
            Fixture.event(
                #""impression": {"path": "shown", "transform": [{"split": ","}]}, "recommendationId": "rec.id""#))
        #expect(try Fixture.event(m, #"{\#(Self.base), "shown": "a, b,,c"}"#).2.impression == ["a", "b", "c"])
        #expect(try Fixture.event(m, #"{\#(Self.base), "shown": ["a", 2, ""]}"#).2.impression == ["a", "2"])
        #expect(try Fixture.event(m, #"{\#(Self.base), "shown": ""}"#).2.impression == nil)
        #expect(try Fixture.event(m, #"{\#(Self.base), "rec": {"id": "r1"}}"#).2.recommendationId == "r1")
    }

    @Test func propertiesGatherCamelCasedNamesAndJoinLists() throws {
        let m = try Fixture.mapper(
            Fixture.event(
                #"""
                "properties": {"NUMBER_OF_RATINGS": "r", "categories": {"path": "cats", "transform": [{"join": "|"}]},
                  "tags": "tags", "discount": "d", "empty": "e", "flag": "f"}
                """#))
        let e = try Fixture.event(
            m, #"{\#(Self.base), "r": 12, "cats": ["a", "b"], "tags": ["x", 1], "e": "", "f": false}"#)
        #expect(e.2.properties == #"{"numberOfRatings":12,"categories":"a|b","tags":"x|1","flag":false}"#)
        #expect(try Fixture.event(m, #"{\#(Self.base)}"#).2.properties == nil)
    }

    @Test func metricAttributionAndTransformsOnFields() throws {
        let m = try Fixture.mapper(
            Fixture.event(
                #"""
                "metricAttribution": {"path": "campaign"},
                "eventId": "id",
                "userId": {"path": "action", "transform": ["lower", {"lookup": {"add_to_cart": "AddToCart"}, "otherwise": "drop"}], "default": "none"}
                """#))
        let e = try Fixture.event(m, #"{\#(Self.base), "campaign": "email", "action": "ADD_TO_CART", "id": "e1"}"#)
        #expect(e.2.metricAttribution?.eventAttributionSource == "email")
        #expect(e.2.eventId == "e1")
        #expect(e.userId == "AddToCart")
        #expect(try Fixture.event(m, #"{\#(Self.base), "action": "other"}"#).userId == "none")
    }

    @Test func derivedEventIdsAreDeterministic() throws {
        let m = try Fixture.mapper(Fixture.event(#""eventId": {"derive": true}"#))
        let line = #"{\#(Self.base)}"#
        let a = try Fixture.event(m, line).2.eventId
        let b = try Fixture.mapper(Fixture.event(#""eventId": {"derive": true}"#)).apply(
            try JSONParser.parse(line), context: Fixture.context)
        #expect(a != nil && a!.count == 32)
        guard case .record(_, .event(_, _, _, let e2)) = b[0] else { throw Fixture.Stop() }
        #expect(e2.eventId == a)
        #expect(a == Mapper.derivedEventId(context: Fixture.context, mapping: "m"))
        var moved = Fixture.context
        moved.offset += 1
        #expect(Mapper.derivedEventId(context: moved, mapping: "m") != a)
        moved = Fixture.context
        moved.path = "/var/log/app.log.1"  // rotation renames the file; the id must not change
        #expect(Mapper.derivedEventId(context: moved, mapping: "m") == a)
        #expect(Mapper.derivedEventId(context: Fixture.context, mapping: "other") != a)
        // Pinned: a changed derivation would re-send every replayed line under a new id.
        #expect(
            Mapper.derivedEventId(context: RecordContext(sourceName: "x", fingerprint: "", offset: 0), mapping: "")
                == Mapper.derivedEventId(
                    context: RecordContext(sourceName: "y", fingerprint: "", offset: 0), mapping: ""))
    }
}
