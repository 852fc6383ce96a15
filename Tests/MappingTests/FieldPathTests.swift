import JSON
import Testing

@testable import Mapping

@Suite struct FieldPathTests {
    static let record = try! JSONParser.parse(
        #"""
        {"user": {"id": "u1", "tags": ["a", "b"]}, "weird key": {"x.y": 5}, "list": [[1, 2], [3]], "n": null,
         "quote\"d": true, "dup": 1, "dup": 2}
        """#)

    @Test(arguments: [
        ("user.id", #""u1""#),
        ("user.tags[1]", #""b""#),
        (#"["weird key"]["x.y"]"#, "5"),
        ("list[0][1]", "2"),
        ("list[1][0]", "3"),
        (#"["quote\"d"]"#, "true"),
        ("dup", "2"),
    ])
    func resolves(path: String, expected: String) throws {
        let p = try FieldPath.parse(path).get()
        #expect(p.resolve(in: Self.record)?.serialized == expected)
    }

    @Test(arguments: ["user.missing", "user.tags[2]", "user.id.deeper", "list[0].x", "n", "user[0]", "missing[0]"])
    func absentOrWrongKindIsNil(path: String) throws {
        #expect(try FieldPath.parse(path).get().resolve(in: Self.record) == nil)
    }

    @Test(arguments: ["", ".a", "a.", "a..b", "a[", "a[x]", "a[-1]", "a]", #"a["x"#, "a[0]b", #"a"b"#])
    func rejectsInvalidSyntax(path: String) {
        guard case .failure(let e) = FieldPath.parse(path) else {
            Issue.record("\(path) should not parse")
            return
        }
        #expect(e.message.hasPrefix("invalid path"))
    }
}
