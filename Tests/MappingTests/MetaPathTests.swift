import JSON
import PersonalizeModel
import Testing

@testable import Mapping

/// `$meta`: where a line came from, readable in conditions, fields, templates and properties; the same results
/// through every entry point (parsed value, line, encoded line), and a record member named `$meta` still reachable.
@Suite struct MetaPathTests {
    static let context = RecordContext(
        sourceName: "web", path: "/var/log/containers/web-1_shop_app-0123.log", fingerprint: "0f1e2d3c", offset: 42,
        meta: RecordMeta(
            namespace: "shop", pod: "web-1", container: "app", stream: "stdout",
            time: "2026-12-05T22:00:00.123456789Z"))

    static let mappings = """
        {"m": {"target": "event", "trackingId": "\(Fixture.tracking)",
          "when": {"field": "$meta.namespace", "in": ["shop", "cart"]},
          "fields": {"sessionId": "sid", "eventType": {"const": "click"}, "userId": {"template": "{$meta.pod}/{user}"},
            "sentAt": {"paths": ["ts", "$meta.time"]},
            "properties": {"stream": "$meta.stream", "file": "$meta.file", "source": "$meta.source",
              "container": "$meta.container", "literal": "[\\"$meta\\"].x"}}}}
        """

    @Test func metaValuesReachEveryKindOfRule() throws {
        let mapper = try Fixture.mapper(Self.mappings)
        #expect(mapper.readsMeta)
        let line = #"{"sid": "s1", "user": "u1", "$meta": {"x": "own"}}"#
        let results = try Fixture.apply(mapper, line, context: Self.context)
        guard results.count == 1, case .record(_, .event(_, let userId, _, let event)) = results[0] else {
            Issue.record("expected one event, got \(results)")
            return
        }
        #expect(userId == "web-1/u1")
        #expect(event.sentAt.epochMilliseconds == 1_796_508_000_123)
        let properties = try JSONParser.parse(Array((event.properties ?? "").utf8))
        #expect(
            properties
                == (try JSONParser.parse(
                    #"""
                    {"stream":"stdout","file":"/var/log/containers/web-1_shop_app-0123.log","source":"web","container":"app","literal":"own"}
                    """#)))
        // The line entry point agrees with the parsed one.
        let encoded = try Array(line.utf8).withUnsafeBytes { try mapper.apply(line: $0, context: Self.context) }
        #expect(encoded == results.map(EncodedMappingResult.init))
        #expect(mapper.directlyEncoded == 0)
    }

    @Test func routesByNamespace() throws {
        let mapper = try Fixture.mapper(Self.mappings)
        var other = Self.context
        other.meta?.namespace = "kube-system"
        #expect(try Fixture.apply(mapper, #"{"sid": "s1", "user": "u1", "ts": 1}"#, context: other).isEmpty)
        // A plain file has no namespace: no match; `$meta.file` and `$meta.source` are there for every file.
        #expect(try Fixture.apply(mapper, #"{"sid": "s1", "user": "u1", "ts": 1}"#, context: Fixture.context).isEmpty)
        let plain = try Fixture.mapper(Fixture.event(#""userId": "$meta.source""#))
        let (user, _, _) = try Fixture.event(plain, #"{"sid": "s", "ts": 1}"#)
        #expect(user == "web")
    }

    @Test func mappingsWithoutMetaKeepTheDirectEncoder() throws {
        let mapper = try Fixture.mapper(Fixture.event(#""userId": "user""#))
        #expect(!mapper.readsMeta)
        let line = Array(#"{"sid": "s", "ts": 1, "user": "u"}"#.utf8)
        _ = try line.withUnsafeBytes { try mapper.apply(line: $0, context: Self.context) }
        #expect(mapper.directlyEncoded == 1)
    }

    @Test func unknownMetaFieldsAreConfigErrors() throws {
        let issues = try Fixture.issues(Fixture.event(#""userId": "$meta.user""#))
        #expect(issues.count == 1)
        #expect(issues.first?.contains("$meta is reserved") == true)
        #expect(issues.first?.contains("stream, time, namespace, pod, container, file, source") == true)
        #expect(try Fixture.issues(Fixture.event(#""userId": "$meta.pod.name""#)).count == 1)
        #expect(try Fixture.issues(Fixture.event(#""userId": "$meta""#)).count == 1)
        let when = Fixture.event("", extra: #""when": {"field": "$meta.nope", "exists": true}"#)
        #expect(try Fixture.issues(when).first?.hasPrefix("mappings.m.when.field") == true)
        #expect(try Fixture.issues(Fixture.event(#""userId": "$metadata.user""#)).isEmpty)
    }
}
