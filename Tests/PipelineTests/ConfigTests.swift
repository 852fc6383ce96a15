import AgentConfig
import JSON
import Pipeline
import TestSupport
import Testing

@Suite struct ConfigTests {
    static let mappings =
        #"{"m": {"target": "user", "datasetArn": "arn:aws:personalize:us-east-1:1:dataset/x/USERS", "fields": {"userId": "id"}}}"#

    func issues(_ text: String) -> [String] {
        do {
            _ = try AgentConfig.parse(try JSONParser.parse(text), baseDirectory: "/base")
            return []
        } catch let error as ConfigError {
            return error.issues.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test func minimalConfigIsValidAndPathsResolveAgainstTheConfigDirectory() throws {
        let config = try AgentConfig.parse(
            try JSONParser.parse(
                #"{"sources": [{"paths": ["logs/*.jsonl", "/abs/*.gz"]}], "state": {"directory": "st"}, "mappings": \#(Self.mappings)}"#
            ),
            baseDirectory: "/base")
        #expect(config.sources[0].paths == ["/base/logs/*.jsonl", "/abs/*.gz"])
        #expect(config.sources[0].name == "source1")
        #expect(config.state.directory == "/base/st")
        #expect(config.deadLetter.path == "/base/st/dead-letter.jsonl")
        #expect(config.batching.maxWaitMillis == 100)
        #expect(config.sources[0].maxLineBytes == 1 << 20)
    }

    @Test func unknownKeysAreNamedWithASuggestion() {
        let found = issues(
            #"{"sources": [{"paths": ["a"], "maxLineByte": 10}], "mappings": \#(Self.mappings), "batchng": {}}"#)
        #expect(found.contains("sources[0].maxLineByte: unknown key; did you mean \"maxLineBytes\"?"))
        #expect(found.contains("batchng: unknown key; did you mean \"batching\"?"))
    }

    @Test func wrongTypesAndRangesAreNamed() {
        let found = issues(
            #"{"aws": {"region": 5, "maxConcurrentRequests": 0}, "sources": [{"paths": "a", "format": "zip"}], "batching": {"maxWaitMillis": "fast"}, "mappings": \#(Self.mappings)}"#
        )
        #expect(found.contains("aws.region: expected a string, found a number"))
        #expect(found.contains { $0.hasPrefix("aws.maxConcurrentRequests: must be at least 1") })
        #expect(found.contains { $0.hasPrefix("sources[0].format: must be one of \"auto\", \"jsonl\", \"gzip\"") })
        #expect(found.contains { $0.hasPrefix("batching.maxWaitMillis: expected a whole number") })
        #expect(found.count == 4)
    }

    @Test func missingRequiredValuesAreNamed() {
        let found = issues(#"{"sources": [{"name": "a"}, {"name": "a", "paths": ["x"]}]}"#)
        #expect(found.contains { $0.hasPrefix("sources[0].paths: is required") })
        #expect(found.contains { $0.hasPrefix("sources[1].name: \"a\" is used by another source") })
        #expect(found.contains { $0.hasPrefix("mappings: is required") })
    }

    @Test func mappingErrorsCarryTheirPath() {
        let found = issues(
            #"{"sources": [{"name": "web", "paths": ["a"]}], "mappings": {"clicks": {"target": "event", "trackingId": "t", "sources": ["wbe"], "fields": {"eventType": "type", "sessionId": "s", "sentAt": {"path": "ts", "format": "isoo8601"}}}}}"#
        )
        #expect(found.contains { $0.hasPrefix("mappings.clicks.fields.sentAt") })
        #expect(found.contains { $0.hasPrefix("mappings.clicks.sources") })
    }

    @Test func notJSONSaysWhere() throws {
        let dir = try TestSupportDirectory()
        defer { dir.remove() }
        try dir.write("bad.json", "{\n  \"sources\": [\n    oops\n]}")
        #expect {
            _ = try AgentConfig.load(path: dir.file("bad.json"))
        } throws: { error in
            "\(error)".contains("line 3, column 5")
        }
    }
}

typealias TestSupportDirectory = TemporaryDirectory
