import JSON
import PersonalizeModel
import Testing

@testable import Mapping

/// Random records of random shapes through every kind of mapping: nothing may crash, and every `.record` must pass
/// the API's limits. Seeded, so a failure replays exactly.
@Suite struct RandomizedTests {
    static let config = #"""
        {"ev": {"target": "event", "trackingId": "T",
           "fields": {"userId": "u", "sessionId": {"paths": ["s", "x.s"], "fallback": "session"}, "eventType": {"path": "t", "transform": ["trim", "lower"]},
             "sentAt": "ts", "itemId": {"template": "{a}-{b}"}, "eventValue": "v", "eventId": {"derive": true},
             "impression": {"path": "imp", "transform": [{"split": ","}]}, "recommendationId": "r",
             "metricAttribution": "c", "properties": {"P_ONE": "a", "two": {"path": "b", "transform": [{"join": "|"}]}}},
           "impressionOverflow": "truncate", "session": {"gapMinutes": 1, "maxUsers": 50}},
         "ai": {"target": "actionInteraction", "trackingId": "T", "when": {"any": [{"field": "a", "exists": true}, {"field": "t", "matches": "^[a-z]"}]},
           "fields": {"actionId": "a", "userId": "u", "sessionId": "s", "eventType": "t", "timestamp": {"path": "ts", "format": "epoch"},
             "impression": "imp", "properties": {"x": "x"}}},
         "it": {"target": "item", "datasetArn": "arn:aws:personalize:us-east-1:1:dataset/d/ITEMS", "fields": {"itemId": "a", "properties": {"b": "b", "c": "c"}}},
         "us": {"target": "user", "datasetArn": "arn:aws:personalize:us-east-1:1:dataset/d/USERS", "fields": {"userId": "u", "properties": {"v": "v"}}},
         "ac": {"target": "action", "datasetArn": "arn:aws:personalize:us-east-1:1:dataset/d/ACTIONS", "fields": {"actionId": "b"}}}
        """#

    struct Gen {
        var rng: SplitMix64
        mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }

        mutating func string() -> String {
            let lengths = [0, 1, 5, 20, 40, 41, 255, 256, 257, 1100, 3000]
            let n = lengths[int(lengths.count)]
            let alphabet: [Unicode.Scalar] = [
                "a", "Z", "0", " ", ",", "|", "\"", "\\", "\n", "\u{7}", "é", "😀", "{", "}", "-", ":",
            ]
            var s = String.UnicodeScalarView()
            for _ in 0..<n { s.append(alphabet[int(alphabet.count)]) }
            if int(4) == 0 { return "2024-01-15T12:34:56Z" }
            return String(s)
        }

        mutating func number() -> String {
            let literals = [
                "0", "-1", "1.5", "1705322096", "1705322096123", "1e999", "-1e999", "12345678901234567890123",
                "1705322096123456789", "0.000001", "-0", "9.999e15", "3.4e38",
            ]
            return literals[int(literals.count)]
        }

        mutating func value(depth: Int = 0) -> String {
            switch int(depth > 3 ? 4 : 7) {
            case 0: return "null"
            case 1: return int(2) == 0 ? "true" : "false"
            case 2: return number()
            case 3: return JSONValue.string(string()).serialized
            case 4:  // up to 30 at the top (impression overflow), small below so that sizes stay bounded
                return "[" + (0..<int(depth == 0 ? 31 : 4)).map { _ in value(depth: depth + 1) }.joined(separator: ",")
                    + "]"
            default:
                let keys = ["a", "b", "s", "u", "t", "x"]
                return "{"
                    + (0..<int(4)).map { _ in "\"\(keys[int(keys.count)])\":\(value(depth: depth + 1))" }
                    .joined(separator: ",") + "}"
            }
        }

        mutating func record() -> String {
            let keys = ["u", "s", "x", "t", "ts", "a", "b", "v", "imp", "r", "c"]
            var members: [String] = []
            for k in keys where int(4) != 0 { members.append("\"\(k)\":\(value())") }
            return "{" + members.joined(separator: ",") + "}"
        }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func randomRecordsNeverBreakLimits(seed: UInt64) throws {
        let mapper = try Fixture.mapper(Self.config)
        var gen = Gen(rng: SplitMix64(seed: seed))
        var records = 0
        var failures = 0
        for i in 0..<3000 {
            let line = gen.record()
            let value = try JSONParser.parse(line)
            let context = RecordContext(sourceName: "web", fingerprint: "ab", offset: UInt64(i))
            for result in mapper.apply(value, context: context) {
                switch result {
                case .record(let mapping, let record):
                    records += 1
                    #expect(record.violations().isEmpty, "\(mapping) produced an invalid record from \(line)")
                    _ = RequestBody(key: record.batchKey, records: [record])  // must serialize without trapping
                case .failure(_, let failure):
                    failures += 1
                    #expect(!failure.field.isEmpty && !failure.reason.isEmpty)
                }
            }
        }
        #expect(records > 100)
        #expect(failures > 100)
    }

    @Test func deepNestingAndHugeValuesDoNotCrash() throws {
        let mapper = try Fixture.mapper(Self.config)
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        let huge = String(repeating: "x", count: 1_000_000)
        for line in [
            #"{"u": \#(deep), "a": \#(deep), "ts": 1}"#,
            #"{"u": "\#(huge)", "a": "\#(huge)", "s": "s", "t": "v", "ts": 1}"#,
        ] {
            for case .record(_, let r) in mapper.apply(try JSONParser.parse(line), context: Fixture.context) {
                #expect(r.violations().isEmpty)
            }
        }
    }
}
