import JSON
import PersonalizeModel
import Testing

@testable import Mapping

/// `apply(line:)` writes most events straight from the line (``DirectEventEncoder``, the fast path); it must answer
/// exactly as its oracle, the generic path (`apply(JSONParser.parse(line))`, each record then encoded): the same
/// records byte for byte, the same batch keys and times, the same failures, the same errors. Each test also checks
/// that the direct path was taken often enough to matter, so that a direct encoder that gives up on everything
/// fails it.
@Suite struct DirectEncodingTests {
    /// Runs both paths over `lines`; returns how many records each kind of answer had.
    static func compare(_ mappings: MappingSet, _ lines: [[UInt8]]) -> (direct: Int, records: Int, failures: Int) {
        let generic = Mapper(mappings: mappings)
        let direct = Mapper(mappings: mappings)
        var records = 0
        var failures = 0
        for (i, line) in lines.enumerated() {
            let context = RecordContext(sourceName: "web", path: "/p", fingerprint: "f\(i % 3)", offset: UInt64(i * 97))
            let expected: Result<[EncodedMappingResult], JSONParseError> = Result { () throws(JSONParseError) in
                generic.apply(try JSONParser.parse(line), context: context).map(EncodedMappingResult.init)
            }
            let actual: Result<[EncodedMappingResult], JSONParseError> = line.withUnsafeBytes { raw in
                Result { () throws(JSONParseError) in try direct.apply(line: raw, context: context) }
            }
            #expect(actual == expected, "line \(i): \(String(decoding: line, as: UTF8.self))")
            if case .success(let results) = expected {
                for r in results {
                    if case .record = r { records += 1 } else { failures += 1 }
                }
            }
        }
        return (direct.directlyEncoded, records, failures)
    }

    /// Every way of reading a field the direct encoder handles, and some it leaves to the generic path.
    static let config = #"""
        {"plain": {"target": "event", "trackingId": "T-1",
           "fields": {"userId": "u", "sessionId": {"paths": ["s", "x.s"]},
             "eventType": {"path": "t", "transform": [{"lookup": {"a": "View", "b": "", "1": "Num", "Z": "Zed\n\"é\""}}]},
             "sentAt": "ts", "itemId": "a", "eventValue": "v", "eventId": {"derive": true},
             "impression": "imp", "recommendationId": "r",
             "properties": {"P_ONE": "a", "two": "b", "k\"ey": "x.s", "é": "v"}}},
         "kept": {"target": "event", "trackingId": "T-2", "impressionOverflow": "truncate",
           "fields": {"sessionId": "s", "sentAt": {"path": "ts", "format": "epochMillis"},
             "eventType": {"path": "t", "transform": [{"lookup": {"a": "A"}, "otherwise": "keep"}]},
             "eventId": "a", "itemId": {"const": 12345}, "impression": "imp", "properties": {"b": "b"}}},
         "dropped": {"target": "event", "trackingId": "T-3",
           "fields": {"sessionId": "s", "sentAt": {"path": "ts", "format": "iso8601"}, "userId": "imp",
             "eventType": {"path": "t", "transform": [{"lookup": {"a": "A"}, "otherwise": "drop"}]}}},
         "replaced": {"target": "event", "trackingId": "T-4",
           "fields": {"sessionId": "s", "sentAt": {"path": "ts", "format": "epoch"}, "eventType": {"const": "click"},
             "itemId": {"path": "t", "transform": [{"lookup": {"a": "A"}, "otherwise": "other"}]}}},
         "generic": {"target": "event", "trackingId": "T-5",
           "fields": {"sessionId": "s", "sentAt": "ts", "eventType": {"path": "t", "transform": ["lower"]}}}}
        """#

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func randomRecordsEncodeTheSameWay(seed: UInt64) throws {
        let mappings = try MappingSet.parse(Self.config, sourceNames: ["web"])
        var gen = RandomizedTests.Gen(rng: SplitMix64(seed: seed))
        var lines: [[UInt8]] = []
        for i in 0..<2000 {
            var line = Array(gen.record().utf8)
            if i % 11 == 0, !line.isEmpty {
                let at = gen.int(line.count)
                line[at] = Array(#"{}[],:"\x"#.utf8 + [0xC3, 0xFF, 0x00])[gen.int(12)]
            }
            lines.append(line)
        }
        let counts = Self.compare(mappings, lines)
        // Random shapes: most lines fail some mapping; what maps is compared all the same.
        #expect(counts.records > 15)
        #expect(counts.failures > 1000)
        #expect(counts.direct > 5)
    }

    /// Lines shaped like real logs: almost every record must take the direct path, and come out the same.
    @Test func typicalLinesAreEncodedDirectly() throws {
        let mappings = try MappingSet.parse(Self.config, sourceNames: ["web"])
        var rng = SplitMix64(seed: 7)
        let times = [
            #""2026-11-26T08:00:00.111Z""#, #""2026-11-26 08:00:00+01:00""#, #""2026-11-26T08:00""#,
            "1764144000", "1764144000123", "-5", #""2026-02-30T00:00:00Z""#,
        ]
        let values = ["2.92", "55.80", "-0", "1e3", "17", #""4.50""#, "true", "1e999"]
        let ids = [
            #""u-1""#, #""é-ü""#, #""😀""#, "42", "4.2e1", #""""#, #""tab\tbed""#, #""a""#, #""b""#, #""Z""#, "1",
            "null", "[1]", String(repeating: "x", count: 300).debugDescription, #""\u00e9""#,
        ]
        let lists = [
            #"["i1","i2"]"#, #"[]"#, #"["",3,"x"]"#, #""one""#,
            "[" + (0..<30).map { "\"i\($0)\"" }.joined(separator: ",") + "]",
            #"[{"no":1}]"#, #"["ok",null]"#, #"["\"q"]"#, "7", "true",
        ]
        func pick(_ a: [String]) -> String { a[Int(rng.next() % UInt64(a.count))] }
        var lines: [[UInt8]] = []
        for i in 0..<3000 {
            var members = [
                #""s":"s-\#(i % 40)""#, #""ts":\#(i % 5 == 0 ? pick(times) : times[0])"#,
                #""t":\#(i % 3 == 0 ? pick(ids) : #""a""#)"#,
            ]
            if i % 2 == 0 { members.append(#""u":\#(i % 7 == 0 ? pick(ids) : #""u-\#(i)""#)"#) }
            if i % 3 != 1 { members.append(#""a":\#(i % 4 == 0 ? pick(ids) : #""SKU-\#(i)""#)"#) }
            if i % 5 != 2 { members.append(#""b":\#(i % 6 == 0 ? pick(ids + values) : #""tablet""#)"#) }
            if i % 4 == 0 { members.append(#""v":\#(pick(values))"#) }
            if i % 3 == 2 { members.append(#""imp":\#(pick(lists))"#) }
            if i % 9 == 0 { members.append(#""r":\#(pick(ids))"#) }
            if i % 8 == 0 { members.append(#""x":{"s":\#(pick(ids))}"#) }
            lines.append(Array(("{" + members.joined(separator: ",") + "}").utf8))
        }
        let counts = Self.compare(mappings, lines)
        #expect(counts.records > 6000)
        // "generic" (two records in five) never goes direct; of the rest, most lines are plain.
        #expect(counts.direct * 10 > counts.records * 4, "direct \(counts.direct) of \(counts.records)")
    }

    /// Every limit at its edge and one past it: ids (ASCII and not), the recommendation id, the impression count
    /// (cut or refused), the properties text, the event's size. Both paths must agree, and both kinds of answer
    /// must occur at each edge.
    @Test func limitsAtTheirEdges() throws {
        let mappings = try MappingSet.parse(Self.config, sourceNames: ["web"])
        func text(_ unit: String, _ n: Int) -> String { "\"" + String(repeating: unit, count: n) + "\"" }
        func line(_ extra: String) -> [UInt8] { Array(#"{"s":"s","ts":1764144000123,"t":"a",\#(extra)}"#.utf8) }
        var lines: [[UInt8]] = []
        for n in [255, 256, 257] {
            for unit in ["x", "é", "😀"] {
                lines.append(line(#""u":\#(text(unit, n))"#))
                lines.append(line(#""a":\#(text(unit, n))"#))
                lines.append(line(#""imp":[\#(text(unit, n))]"#))
            }
        }
        for n in [39, 40, 41] { lines.append(line(#""r":\#(text("r", n))"#)) }
        for n in [24, 25, 26, 40] {
            lines.append(line(#""imp":[\#((0..<n).map { "\"i\($0)\"" }.joined(separator: ","))]"#))
        }
        // {"two":"..."} is 10 characters and the value.
        for n in [1013, 1014, 1015] {
            lines.append(line(#""b":\#(text("b", n))"#))
            lines.append(line(#""b":\#(text("ü", n))"#))
        }
        // Ids of 256 four-byte characters: about a kilobyte each, so the event passes 10 KB at nine or ten.
        for n in 6...12 {
            lines.append(line(#""imp":[\#((0..<n).map { _ in text("😀", 256) }.joined(separator: ","))]"#))
        }
        let generic = Mapper(mappings: mappings)
        var outcomes: [String: Set<Bool>] = [:]
        for (i, l) in lines.enumerated() {
            let context = RecordContext(sourceName: "web", fingerprint: "f", offset: UInt64(i))
            let results = generic.apply(try JSONParser.parse(l), context: context)
            for case let r in results where r.mapping == "plain" || r.mapping == "kept" {
                if case .record = r {
                    outcomes[r.mapping, default: []].insert(true)
                } else {
                    outcomes[r.mapping, default: []].insert(false)
                }
            }
        }
        #expect(outcomes["plain"] == [true, false])
        #expect(outcomes["kept"] == [true, false])
        let counts = Self.compare(mappings, lines)
        #expect(counts.direct > lines.count / 2)
        // Each edge decides a record: one past it fails.
        let plain = Mapper(
            mappings: try MappingSet.parse(
                #"""
                {"m": {"target": "event", "trackingId": "T", "fields": {"sessionId": "s", "eventType": "t", "sentAt": "ts",
                  "recommendationId": "r", "properties": {"two": "b"}}}}
                """#, sourceNames: ["web"]))
        for (extra, ok) in [
            (#""r":\#(text("r", 40))"#, true), (#""r":\#(text("r", 41))"#, false),
            (#""b":\#(text("ü", 1014))"#, true), (#""b":\#(text("ü", 1015))"#, false),
            (#""t":\#(text("é", 256))"#, true), (#""t":\#(text("é", 257))"#, false),
        ] {
            let l = Array(#"{"s":"s","ts":1764144000,"t":"a",\#(extra)}"#.utf8)
            let results = try l.withUnsafeBytes { try plain.apply(line: $0, context: Fixture.context) }
            if case .record = results[0] {
                #expect(ok, "\(extra.prefix(12))")
            } else {
                #expect(!ok, "\(extra.prefix(12))")
            }
        }
        #expect(plain.directlyEncoded == 3)
    }

    /// An empty string is absent for `paths` alternatives, as `null` is: the next alternative is taken, on both
    /// paths, for every field (ids, the session id, times, numbers, properties, impressions).
    @Test func emptyStringsFallThroughToTheNextAlternative() throws {
        let mappings = try MappingSet.parse(
            #"""
            {"m": {"target": "event", "trackingId": "T",
              "fields": {"userId": {"paths": ["userId", "anonymousId"]}, "sessionId": {"paths": ["sessionId", "sid"]},
                "eventType": {"paths": ["type", "kind"]}, "sentAt": {"paths": ["ts", "time"]},
                "itemId": {"paths": ["item", "sku"]}, "eventValue": {"paths": ["value", "price"]},
                "recommendationId": {"paths": ["rec", "r"]}, "impression": {"paths": ["imp", "shown"]},
                "eventId": {"paths": ["id", "eid"]}, "properties": {"device": {"paths": ["device", "ua"]}}}}}
            """#, sourceNames: ["web"])
        let pairs = [
            ("userId", "anonymousId"), ("sessionId", "sid"), ("type", "kind"), ("ts", "time"), ("item", "sku"),
            ("value", "price"), ("rec", "r"), ("imp", "shown"), ("id", "eid"), ("device", "ua"),
        ]
        let second = [
            "anonymousId": #""anon-1""#, "sid": #""s-2""#, "kind": #""View""#, "time": "1764144000",
            "sku": #""SKU-2""#, "price": "345.0", "r": #""r-2""#, "shown": #"["a","b"]"#, "eid": #""e-2""#,
            "ua": #""tablet""#,
        ]
        var rng = SplitMix64(seed: 3)
        var lines: [[UInt8]] = []
        for _ in 0..<400 {
            var members: [String] = []
            for (first, alternative) in pairs {
                switch rng.next() % 4 {
                case 0: members.append(#""\#(first)":"""#)
                case 1: members.append(#""\#(first)":null"#)
                case 2: break
                default:
                    members.append(#""\#(first)":"""#)
                    continue
                }
                members.append(#""\#(alternative)":\#(second[alternative]!)"#)
            }
            lines.append(Array(("{" + members.joined(separator: ",") + "}").utf8))
        }
        let counts = Self.compare(mappings, lines)
        #expect(counts.records > 0)
        #expect(counts.direct > 0)
        // Every field empty in its first path: each takes its second.
        let line = "{" + pairs.map { #""\#($0.0)":"","\#($0.1)":\#(second[$0.1]!)"# }.joined(separator: ",") + "}"
        let results = try Fixture.apply(Mapper(mappings: mappings), line)
        guard results.count == 1, case .record(_, .event(_, let userId, let sessionId, let event)) = results[0] else {
            Issue.record("expected one event, got \(results)")
            return
        }
        #expect(userId == "anon-1")
        #expect(sessionId == "s-2")
        #expect(event.eventType == "View")
        #expect(event.sentAt.epochMilliseconds == 1_764_144_000_000)
        #expect(event.itemId == "SKU-2")
        #expect(event.eventValue == 345)
        #expect(event.recommendationId == "r-2")
        #expect(event.impression == ["a", "b"])
        #expect(event.eventId == "e-2")
        #expect(event.properties == #"{"device":"tablet"}"#)
    }

    /// The benchmark's and the bundled example's kind of mapping takes the direct path for every record.
    @Test func theBenchmarkMappingIsEncodedDirectly() throws {
        let mappings = try MappingSet.parse(
            #"""
            {"shop": {"target": "event", "trackingId": "11111111-2222-3333-4444-555555555555",
              "when": {"field": "event", "in": ["product_view", "purchase"]},
              "fields": {"userId": "user.id", "sessionId": "session",
                "eventType": {"path": "event", "transform": [{"lookup": {"product_view": "View", "purchase": "Purchase"}}]},
                "itemId": "product.sku", "eventValue": "product.price", "sentAt": {"path": "ts", "format": "iso8601"},
                "eventId": {"derive": true}, "recommendationId": "rec.id", "impression": "rec.shown",
                "properties": {"device": "device", "segment": "user.segment", "tsNs": "tsNs"}}}}
            """#, sourceNames: ["web"])
        let lines = (0..<200).map { i in
            Array(
                #"{"ts":"2026-11-26T08:00:0\#(i % 10).\#(100 + i)Z","event":"\#(i % 2 == 0 ? "product_view" : "purchase")","user":{"id":"u-\#(i)","segment":"new"},"session":"s-\#(i % 7)","product":{"sku":"SKU-\#(i)","price":\#(i).5\#(i % 10)},"device":"tablet"\#(i % 3 == 0 ? #","rec":{"id":"r-1","shown":["a","b"]}"# : "")\#(i % 5 == 0 ? #","tsNs":1764144000000000123"# : "")}"#
                    .utf8)
        }
        let counts = Self.compare(mappings, lines)
        #expect(counts.records == 200)
        #expect(counts.direct == 200)
    }

    /// Mappings read in ways the direct encoder leaves alone get no direct encoder at all.
    @Test func unsupportedMappingsHaveNoDirectEncoder() throws {
        let configs = [
            Fixture.event(#""userId": {"path": "u", "transform": ["trim"]}"#),
            Fixture.event(#""itemId": {"template": "{a}-{b}"}"#),
            Fixture.event(#""userId": {"path": "u", "default": "anon"}"#),
            Fixture.event(#""metricAttribution": "c""#),
            Fixture.event(#""properties": {"p": {"path": "p", "transform": [{"join": "|"}]}}"#),
            Fixture.event("", extra: #""session": {"gapMinutes": 5}"#),
            #"{"m": {"target": "event", "trackingId": "T", "fields": {"sessionId": "s", "eventType": "t", "sentAt": {"path": "ts", "format": "yyyy-MM-dd HH:mm:ss"}}}}"#,
            #"{"m": {"target": "event", "fields": {"trackingId": "tid", "sessionId": "s", "eventType": "t", "sentAt": "ts"}}}"#,
            #"{"m": {"target": "event", "trackingId": "T", "fields": {"sessionId": "s", "eventType": {"path": "t", "transform": [{"lookup": {"é": "E"}}]}, "sentAt": "ts"}}}"#,
            #"{"m": {"target": "item", "datasetArn": "arn:aws:personalize:us-east-1:1:dataset/d/ITEMS", "fields": {"itemId": "a"}}}"#,
        ]
        for config in configs {
            let mappings = try MappingSet.parse(config, sourceNames: ["web"])
            #expect(mappings.mappings.allSatisfy { DirectEventEncoder($0) == nil }, "\(config)")
        }
        let plain = try MappingSet.parse(
            Fixture.event(#""userId": "u", "properties": {"p": "p"}"#), sourceNames: ["web"])
        #expect(plain.mappings.allSatisfy { DirectEventEncoder($0) != nil })
    }
}
