import Foundation
import JSON
import PersonalizeModel
import Testing

@testable import Mapping

/// `apply(line:)` on its generic path (tape, values made only where read, no direct encoder) must answer exactly as
/// its oracle `apply(JSONParser.parse(line))`, each record encoded: the same records byte for byte and failures, and
/// the same error for lines that are not JSON. Two mappers run in lockstep so that sessionization state evolves
/// identically.
@Suite struct LineApplyTests {
    static func lockstep(_ mappings: MappingSet, _ lines: [[UInt8]], source: (Int) -> String = { _ in "web" })
        -> (records: Int, failures: Int, errors: Int)
    {
        let byValue = Mapper(mappings: mappings)
        let byLine = Mapper(mappings: mappings, directEncoding: false)
        var records = 0
        var failures = 0
        var errors = 0
        for (i, line) in lines.enumerated() {
            let context = RecordContext(sourceName: source(i), path: "/p", fingerprint: "ab", offset: UInt64(i))
            let expected: Result<[EncodedMappingResult], JSONParseError> = Result { () throws(JSONParseError) in
                byValue.apply(try JSONParser.parse(line), context: context).map(EncodedMappingResult.init)
            }
            let actual: Result<[EncodedMappingResult], JSONParseError> = line.withUnsafeBytes { raw in
                Result { () throws(JSONParseError) in try byLine.apply(line: raw, context: context) }
            }
            #expect(actual == expected, "line \(i): \(String(decoding: line, as: UTF8.self))")
            switch expected {
            case .success(let results):
                for r in results {
                    if case .record = r { records += 1 } else { failures += 1 }
                }
            case .failure: errors += 1
            }
        }
        return (records, failures, errors)
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func randomRecordsMapTheSameWay(seed: UInt64) throws {
        let mappings = try MappingSet.parse(RandomizedTests.config, sourceNames: ["web"])
        var gen = RandomizedTests.Gen(rng: SplitMix64(seed: seed))
        var lines: [[UInt8]] = []
        for i in 0..<2000 {
            var line = Array(gen.record().utf8)
            // Some lines damaged: both must refuse them with the same error (or accept the same).
            if i % 7 == 0, !line.isEmpty {
                let at = gen.int(line.count)
                line[at] = Array(#"{}[],:"\x"#.utf8 + [0xC3, 0xFF, 0x00])[gen.int(12)]
            }
            lines.append(line)
        }
        let counts = Self.lockstep(mappings, lines)
        #expect(counts.records > 100)
        #expect(counts.failures > 100)
        #expect(counts.errors > 50)
    }

    @Test func oddKeysAndPathsMapTheSameWay() throws {
        let mappings = try MappingSet.parse(
            #"""
            {"m": {"target": "event", "trackingId": "T",
               "when": {"any": [{"field": "[\"k\\u00e9y\"]", "exists": true}, {"field": "t", "in": ["a", 1, null]}]},
               "fields": {"sessionId": {"paths": ["s", "x[1].s", "[\"\u212a\"]"]}, "eventType": {"template": "{t}/{[\"k\u00e9y\"]}"},
                 "sentAt": {"path": "ts", "format": "epoch"}, "userId": "[\"a very long key name\"]",
                 "itemId": "items[2]", "properties": {"p": "x", "q": "[\"\"]"}}}}
            """#, sourceNames: ["web"])
        let lines = [
            #"{"s":"a","t":"a","ts":1,"kéy":"x"}"#, #"{"s":"a","t":"a","ts":1,"ke\u0301y":"x"}"#,
            #"{"K":"kelvin","t":1,"ts":1}"#, #"{"\u212a":"kelvin","t":1.0,"ts":1}"#, #"{"\u004b":"k","t":"a","ts":1}"#,
            #"{"x":[{},{"s":"deep"}],"t":"a","ts":1,"t":"b"}"#, #"{"x":[{},{"s":null}],"s":null,"t":null,"ts":1}"#,
            #"{"s":"s","t":"a","ts":2,"a very long key name":"u1","a very long key name!":"u2","items":[1,2,[3]]}"#,
            #"{"s":"s","t":"a","ts":2,"a very long key nbme":"u1","items":[1,2,"i\n\u00e9"],"x":{"y":[1,{"z":"é"}]},"":"e"}"#,
            #"{"s":"s","t":"a","ts":"nope"}"#, #"{"s":"s","t":"a","ts":1,"x":["list",2,true]}"#, #"[1,2]"#, #""str""#,
            #"{"s":"s","t":"a","ts":1} x"#, "{\"s\":\"\u{7}\"}", "",
        ]
        let counts = Self.lockstep(mappings, lines.map { Array($0.utf8) })
        #expect(counts.records >= 2 && counts.failures >= 5)
    }

    /// Path lookups on parsed values answer as `JSONObject`'s subscript (String equality, last duplicate wins),
    /// and lookups on a tape answer the same.
    @Test func memberLookupsMatchTheSubscript() throws {
        let names = [
            "K", "\u{212A}", "kéy", "ke\u{301}y", "", " ", "a", "ab", "ba", "ts", "tsNs", "long name, longer than 7",
            "long name, longer than 8", "é", "e\u{301}", ";", "\u{37E}", "\"q\"", "x\ny",
        ]
        let tape = JSONTape()
        for i in 0..<names.count {
            for j in 0..<names.count {
                let doc = JSONValue.object(
                    JSONObject([
                        .init(key: names[i], value: .number(JSONNumber(i))),
                        .init(key: names[j], value: .number(JSONNumber(j))),
                        .init(key: "other", value: .null),
                    ]))
                let text = Array(doc.serialized.utf8)
                for name in names {
                    let path = try FieldPath.parse(
                        JSONValue.string(name).serialized.isEmpty ? "" : "[\(JSONValue.string(name).serialized)]"
                    ).get()
                    let expected = doc.objectValue![name]
                    #expect(path.resolve(in: doc) == expected, "\(name) in \(doc.serialized)")
                    text.withUnsafeBytes { raw in
                        let d = tape.scan(raw)!
                        #expect(TapeRecord(tape: d).value(at: path) == expected, "\(name) in tape of \(doc.serialized)")
                    }
                }
            }
        }
    }

    /// The bundled examples through the bundled config: every line of every source.
    @Test func bundledExamplesMapTheSameWay() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let config = try JSONParser.parse(Array(try Data(contentsOf: root.appendingPathComponent("config.json"))))
        let reader = ConfigReader()
        let mappings = MappingSet.parse(config["mappings"], reader: reader, sourceNames: ["web", "catalog", "users"])
        try reader.throwIfIssues()
        var lines: [[UInt8]] = []
        var sources: [String] = []
        let logs = root.appendingPathComponent("examples/logs")
        for source in ["web", "catalog", "users"] {
            let dir = logs.appendingPathComponent(source)
            for file in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
            where !file.hasSuffix(".gz") {
                let data = try Data(contentsOf: dir.appendingPathComponent(file))
                for line in data.split(separator: 0x0A, omittingEmptySubsequences: true) {
                    lines.append(Array(line))
                    sources.append(source)
                }
            }
        }
        #expect(lines.count > 200)
        let counts = Self.lockstep(mappings, lines, source: { sources[$0] })
        #expect(counts.records > 200)
    }
}
