import JSON
import Testing

@testable import Mapping

@Suite struct TransformTests {
    static func run(_ steps: String, _ input: String) throws -> String? {
        let reader = ConfigReader()
        let transforms = Transform.parseList(try JSONParser.parse(steps), reader: reader, path: "t")
        #expect(reader.issues.isEmpty, "\(reader.issues)")
        var value = try JSONParser.parse(input)
        for t in transforms {
            switch t.apply(value) {
            case .success(let v?): value = v
            case .success(nil): return nil
            case .failure(let e): return "error: \(e.message)"
            }
        }
        return value.serialized
    }

    @Test(arguments: [
        (#"["lower"]"#, #""AddToCart""#, #""addtocart""#),
        (#"["upper"]"#, #""abc-é""#, #""ABC-É""#),
        (#"["trim"]"#, #""  x y \t""#, #""x y""#),
        (#"["trim", "lower"]"#, #"[" A ", "B"]"#, #"["a","b"]"#),
        (#"["lower"]"#, "12", "12"),
        (#"[{"lookup": {"add_to_cart": "AddToCart"}}]"#, #""add_to_cart""#, #""AddToCart""#),
        (#"[{"lookup": {"a": "A"}, "otherwise": "keep"}]"#, #""b""#, #""b""#),
        (#"[{"lookup": {"a": "A"}, "otherwise": "Other"}]"#, #""b""#, #""Other""#),
        (#"[{"lookup": {"1": "one"}}]"#, "1", #""one""#),
        (#"[{"split": ","}]"#, #""a, b,,c ,""#, #"["a","b","c"]"#),
        (#"[{"split": "|"}]"#, #"["x"]"#, #"["x"]"#),
        (#"[{"join": "|"}]"#, #"["a", 2, true]"#, #""a|2|true""#),
        (#"[{"split": ","}, {"join": "|"}]"#, #""a,b""#, #""a|b""#),
        (#"["string"]"#, "12345678901234567890", #""12345678901234567890""#),
        (#"["string"]"#, "false", #""false""#),
        (#"["number"]"#, #""4.50""#, "4.50"),
        (#"["number"]"#, "3", "3"),
        (#""lower""#, #""ONE""#, #""one""#),
    ])
    func transforms(steps: String, input: String, expected: String) throws {
        #expect(try Self.run(steps, input) == expected)
    }

    @Test func lookupDropRemovesTheValue() throws {
        #expect(try Self.run(#"[{"lookup": {"a": "A"}, "otherwise": "drop"}]"#, #""b""#) == nil)
    }

    @Test(arguments: [
        (#"["number"]"#, #""abc""#, #"error: expected a number, found "abc""#),
        (#"["number"]"#, #""NaN""#, #"error: expected a number, found "NaN""#),
        (#"[{"join": ","}]"#, #"[{}]"#, "error: join needs a list of strings or numbers, found an object in it"),
        (#"[{"lookup": {}}]"#, "[1]", "error: lookup needs a string or number, found an array"),
        (#"["string"]"#, "{}", "error: cannot make a string of an object"),
    ])
    func wrongInputs(steps: String, input: String, expected: String) throws {
        #expect(try Self.run(steps, input) == expected)
    }

    @Test func invalidTransformsAreConfigErrors() throws {
        let reader = ConfigReader()
        let steps =
            #"["lowercase", {"lookup": {"a": 1}}, {"split": ""}, {"joinn": ","}, {"lookup": {}, "otherwise": 3}]"#
        _ = Transform.parseList(try JSONParser.parse(steps), reader: reader, path: "t")
        #expect(
            reader.issues.map(\.description) == [
                #"t[0]: unknown transform "lowercase"; use one of "lower", "upper", "trim", "string", "number", "{"lookup": ...}", "{"split": ...}", "{"join": ...}""#,
                "t[1].lookup.a: lookup values must be strings, found a number",
                "t[2].split: must not be empty",
                #"t[3]: unknown transform; use one of "lower", "upper", "trim", "string", "number", "{"lookup": ...}", "{"split": ...}", "{"join": ...}""#,
                #"t[3].joinn: unknown key; did you mean "join"?"#,
                #"t[4].otherwise: expected "keep", "drop" or a replacement string, found a number"#,
            ])
    }
}
