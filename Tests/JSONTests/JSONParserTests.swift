import Foundation
import JSON
import Testing

@Suite struct JSONParserTests {
    @Test(arguments: [
        #"{}"#, #"[]"#, #"{"a":1}"#, #" {"a" : [1, 2.5, -3e2, true, false, null, "x"]} "#,
        #""\u00e9\ud83d\ude00\n\t\\\/\"""#, "0", "-0.0", "1E+2", #"{"nested":{"deep":[[[{}]]]}}"#,
    ])
    func acceptsValidDocuments(_ text: String) throws {
        let ours = try JSONParser.parse(text)
        // Independent check: Foundation agrees on the content.
        let theirs = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        let reparsed = try JSONSerialization.jsonObject(with: Data(ours.serialized.utf8), options: [.fragmentsAllowed])
        #expect(NSArray(array: [theirs]) == NSArray(array: [reparsed]))
    }

    @Test(arguments: [
        "", "{", "[1,]", #"{"a":1,}"#, #"{"a" 1}"#, "01", "1.", ".5", "-", "+1", "1e", "tru", "nul",
        #""unterminated"#, "\"tab\there\"", #""\x""#, #""\ud800""#, #""\udc00x""#, "{} {}", "[1 2]", "NaN", "Infinity",
    ])
    func rejectsInvalidDocuments(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func rejectsInvalidUTF8WithItsOffset() {
        let bytes: [UInt8] = Array(#"{"k":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        #expect {
            try JSONParser.parse(bytes)
        } throws: { error in
            guard let e = error as? JSONParseError else { return false }
            return e.message.contains("UTF-8") && e.offset == 6
        }
    }

    @Test func numbersKeepTheirDigits() throws {
        let v = try JSONParser.parse(#"{"id":12345678901234567890,"f":1.10}"#)
        #expect(v["id"]?.numberValue?.literal == "12345678901234567890")
        #expect(v["f"]?.numberValue?.literal == "1.10")
        #expect(v["f"]?.numberValue?.double == 1.1)
        #expect(v["id"]?.numberValue?.isInteger == true)
    }

    @Test func objectsKeepOrderAndLastDuplicateWins() throws {
        let v = try JSONParser.parse(#"{"b":1,"a":2,"b":3}"#)
        #expect(v.objectValue?.keys == ["b", "a", "b"])
        #expect(v["b"]?.numberValue?.literal == "3")
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        let ok = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: Never.self) { try JSONParser.parse(ok) }
    }

    @Test func writerEscapesWhatJSONRequires() throws {
        let tricky = "quote\" backslash\\ nl\n cr\r tab\t bell\u{07} nul\u{0} é 😀"
        let text = JSONValue.string(tricky).serialized
        #expect(!text.contains("\n"))
        let back = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) as? String
        #expect(back == tricky)
        #expect(try JSONParser.parse(text) == .string(tricky))
    }

    @Test func writerNumbers() {
        var w = JSONWriter()
        w.number(Int64(-9_223_372_036_854_775_807))
        w.raw(UInt8(ascii: " "))
        w.number(Int64(0))
        w.raw(UInt8(ascii: " "))
        w.number(4.5)
        #expect(String(decoding: w.bytes, as: UTF8.self) == "-9223372036854775807 0 4.5")
    }
}

@Suite struct ConfigReaderTests {
    @Test func reportsUnknownKeysWithSuggestionsAndPaths() throws {
        let reader = ConfigReader()
        let doc = try JSONParser.parse(#"{"batching":{"maxWaitMilis":5,"max":"x"}}"#)
        let root = try #require(reader.object(doc, at: ""))
        let batching = try #require(root.object("batching"))
        _ = batching.int("maxWaitMillis")
        _ = batching.int("max")
        batching.finish()
        root.finish()
        let text = reader.issues.map(\.description)
        #expect(text.contains("batching.maxWaitMilis: unknown key; did you mean \"maxWaitMillis\"?"))
        #expect(text.contains { $0.hasPrefix("batching.max: expected a whole number") })
    }

    @Test func pathsQuoteOddKeys() {
        #expect(ConfigReader.join("mappings", "my clicks") == #"mappings["my clicks"]"#)
        #expect(ConfigReader.join("mappings", "clicks") == "mappings.clicks")
        #expect(ConfigReader.index("sources", 2) == "sources[2]")
    }
}
