import JSON
import Testing

@testable import Mapping

@Suite struct ConditionTests {
    static let record = try! JSONParser.parse(
        #"{"type": "click", "n": 2, "f": 2.0, "ok": true, "user": {"id": "u-17"}, "nothing": null}"#)

    static func eval(_ when: String) throws -> Bool {
        let reader = ConfigReader()
        let c = Condition.parse(try JSONParser.parse(when), reader: reader, path: "when")
        #expect(reader.issues.isEmpty, "\(reader.issues)")
        return c.evaluate(record)
    }

    @Test(arguments: [
        (#"{"field": "type", "equals": "click"}"#, true),
        (#"{"field": "type", "equals": "view"}"#, false),
        (#"{"field": "n", "equals": 2.0}"#, true),
        (#"{"field": "f", "equals": 2}"#, true),
        (#"{"field": "n", "equals": "2"}"#, false),
        (#"{"field": "ok", "equals": true}"#, true),
        (#"{"field": "type", "in": ["view", "click"]}"#, true),
        (#"{"field": "type", "in": []}"#, false),
        (#"{"field": "missing", "in": ["x"]}"#, false),
        (#"{"field": "user.id", "exists": true}"#, true),
        (#"{"field": "nothing", "exists": true}"#, false),
        (#"{"field": "missing", "exists": false}"#, true),
        (#"{"field": "user.id", "matches": "^u-[0-9]+$"}"#, true),
        (#"{"field": "user.id", "matches": "^x"}"#, false),
        (#"{"field": "n", "matches": "^2$"}"#, true),
        (#"{"field": "missing", "matches": ".*"}"#, false),
        (#"{"not": {"field": "type", "equals": "view"}}"#, true),
        (#"{"all": [{"field": "type", "equals": "click"}, {"field": "ok", "equals": true}]}"#, true),
        (#"{"all": [{"field": "type", "equals": "click"}, {"field": "ok", "equals": false}]}"#, false),
        (#"{"any": [{"field": "type", "equals": "view"}, {"field": "n", "in": [1, 2]}]}"#, true),
        (#"{"any": [{"field": "type", "equals": "view"}, {"not": {"field": "n", "exists": true}}]}"#, false),
    ])
    func conditions(when: String, expected: Bool) throws {
        #expect(try Self.eval(when) == expected)
    }

    @Test func invalidConditionsAreConfigErrors() throws {
        let reader = ConfigReader()
        let when = #"""
            {"all": [{"field": "a", "matches": "(unclosed"}, {"field": "a", "equals": 1, "in": [1]},
                     {"equals": 1}, {"field": "a..b", "exists": true}, {"field": "a", "exist": true}, {"any": []}]}
            """#
        _ = Condition.parse(try JSONParser.parse(when), reader: reader, path: "when")
        let issues = reader.issues.map(\.description)
        #expect(issues.count == 7, "\(issues)")
        #expect(issues[0].hasPrefix("when.all[0].matches: invalid regular expression"))
        #expect(
            Array(issues.dropFirst()) == [
                #"when.all[1]: a condition takes only one of "equals", "in", "exists", "matches", "not", "all", "any", found "equals" and "in""#,
                "when.all[2].field: is required; name the record field the condition tests",
                "when.all[3].field: invalid path: empty member name at character 3",
                #"when.all[4]: a condition needs one of "equals", "in", "exists", "matches", "not", "all", "any""#,
                #"when.all[4].exist: unknown key; did you mean "exists"?"#,
                "when.all[5].any: must list at least one condition",
            ])
    }
}
