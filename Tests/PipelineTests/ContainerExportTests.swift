import Foundation
import Gzip
import TestSupport
import Testing

/// `export` reads container runtime logs as `run` does (both go through `ReaderLoop`): real CRI and Docker json-file
/// logs, plain and gzip, with partial pieces, a filtered stderr stream and bad envelopes. `run --once --dry-run` of
/// the same files is the oracle for which records come out.
@Suite struct ContainerExportTests {
    static func event(_ id: String) -> String {
        #"{"id":"\#(id)","user":"u-\#(id)","session":"s1","action":"click","item":"i-\#(id)","ts":"2026-12-05T21:00:00Z"}"#
    }

    /// The runtimes' line formats, as the container log tests write them.
    static func cri(_ content: String, tag: String = "F", stream: String = "stdout") -> String {
        ContainerLogTests.cri(content, tag: tag, stream: stream)
    }

    static func docker(_ content: String, stream: String = "stdout") -> String {
        ContainerLogTests.docker(content, stream: stream)
    }

    /// A CRI log with prefix `p`: whole lines, a line in three pieces with a stderr line between them, a stderr
    /// event (filtered), a line that is no CRI envelope. Returns the text, the ids `run` must send and the offset of
    /// the bad envelope.
    static func criLog(_ p: String) -> (text: String, ids: Set<String>, badOffset: Int) {
        let split = event("\(p)3")
        let cut = split.index(split.startIndex, offsetBy: 20)
        let cut2 = split.index(cut, offsetBy: 15)
        var text = cri(event("\(p)1")) + cri(event("\(p)2"))
        text += cri(String(split[..<cut]), tag: "P")
        text += cri(event("\(p)err1"), stream: "stderr")
        text += cri(String(split[cut..<cut2]), tag: "P")
        text += cri(String(split[cut2...]))
        let badOffset = text.utf8.count
        text += "this is not a CRI line\n"
        text += cri(event("\(p)4"))
        return (text, ["\(p)1", "\(p)2", "\(p)3", "\(p)4"], badOffset)
    }

    /// A Docker json-file log: a line split in two `log` pieces, a stderr event (filtered), a bad envelope.
    static func dockerLog(_ p: String) -> (text: String, ids: Set<String>, badOffset: Int) {
        let split = event("\(p)2") + "\n"
        let cut = split.index(split.startIndex, offsetBy: 25)
        var text = docker(event("\(p)1") + "\n")
        text += docker(String(split[..<cut]))
        text += docker(event("\(p)err1") + "\n", stream: "stderr")
        text += docker(String(split[cut...]))
        let badOffset = text.utf8.count
        text += #"{"stream":"stdout","time":"\#(time)"}"# + "\n"
        text += docker(event("\(p)3") + "\n")
        return (text, ["\(p)1", "\(p)2", "\(p)3"], badOffset)
    }

    static func config(_ dir: TemporaryDirectory) throws {
        let text = """
            {
              "aws": {"region": "us-east-1", "endpoint": "http://127.0.0.1:9"},
              "state": {"directory": "\(dir.file("state"))"},
              "deadLetter": {"path": "\(dir.file("dead.jsonl"))"},
              "sources": [
                {"name": "cri", "format": "cri", "paths": ["\(dir.file("cri/*.log"))"], "streams": ["stdout"]},
                {"name": "docker", "format": "docker", "paths": ["\(dir.file("docker/*"))"], "streams": ["stdout"]},
                {"name": "auto", "format": "auto", "paths": ["\(dir.file("rotated/*.gz"))"], "streams": ["stdout"]}
              ],
              "mappings": {
                "events": {
                  "target": "event", "trackingId": "tracker-1",
                  "fields": {
                    "eventId": "id", "userId": "user", "sessionId": "session", "eventType": "action", "itemId": "item",
                    "sentAt": "ts"
                  }
                }
              }
            }
            """
        try dir.write("config.json", text)
    }

    /// The (user, item) pairs of the interactions CSV files an export wrote.
    static func exportedPairs(_ dir: TemporaryDirectory) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.file("out"))
        var pairs: [String] = []
        for name in names.sorted() where name.hasPrefix("interactions") && name.hasSuffix(".csv") {
            let rows = try dir.read("out/\(name)").split(separator: "\n").dropFirst()
            for row in rows {
                let fields = row.split(separator: ",", omittingEmptySubsequences: false)
                pairs.append("\(fields[0])|\(fields[1])")
            }
        }
        return pairs.sorted()
    }

    /// The (user, item) pairs of the PutEvents requests a dry run printed.
    static func dryRunPairs(_ stdout: String) throws -> [String] {
        var pairs: [String] = []
        for line in stdout.split(separator: "\n") {
            let request = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            guard request["operation"] as? String == "PutEvents" || request["path"] as? String == "/events" else {
                continue
            }
            let body = try #require(request["body"] as? [String: Any])
            let user = try #require(body["userId"] as? String)
            for event in try #require(body["eventList"] as? [[String: Any]]) {
                pairs.append("\(user)|\(try #require(event["itemId"] as? String))")
            }
        }
        return pairs.sorted()
    }

    @Test func exportDecodesContainerLogsLikeRun() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let plainCRI = Self.criLog("c")
        let plainDocker = Self.dockerLog("d")
        let gzCRI = Self.criLog("gc")
        let gzDocker = Self.dockerLog("gd")
        try dir.write("cri/0.log", plainCRI.text)
        try dir.write("docker/abc-json.log", plainDocker.text)
        // Rotated logs the kubelet gzipped: found by `auto` on their (decompressed) first line.
        try dir.write("rotated/0.log.1.gz", Gzip.compress(Array(gzCRI.text.utf8)))
        try dir.write("rotated/abc-json.log.1.gz", Gzip.compress(Array(gzDocker.text.utf8)))
        try Self.config(dir)
        let ids = plainCRI.ids.union(plainDocker.ids).union(gzCRI.ids).union(gzDocker.ids)
        let expected = ids.map { "u-\($0)|i-\($0)" }.sorted()

        let dry = try await AgentProcess.run(
            ["run", "--once", "--dry-run", "--config", dir.file("config.json")], currentDirectory: dir.path)
        #expect([0, 3].contains(dry.status), "\(dry.stderr)")
        let sent = try Self.dryRunPairs(dry.stdout)
        #expect(sent == expected, "\(dry.stderr)")

        let export = try await AgentProcess.run(
            ["export", "--config", dir.file("config.json"), "--output", dir.file("out")], currentDirectory: dir.path)
        #expect([0, 3].contains(export.status), "\(export.stderr)")
        #expect(try Self.exportedPairs(dir) == sent, "\(export.stderr)")

        // Each bad envelope is rejected with its reason, file and offset (plain and decompressed alike).
        let rejected = try dir.read("out/rejected.jsonl").split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let envelopes = rejected.filter { $0["kind"] as? String == "invalid_envelope" }
        let places = Set(envelopes.map { "\($0["path"] as? String ?? "?")@\($0["offset"] as? Int ?? -1)" })
        #expect(
            places == [
                "\(dir.file("cri/0.log"))@\(plainCRI.badOffset)",
                "\(dir.file("docker/abc-json.log"))@\(plainDocker.badOffset)",
                "\(dir.file("rotated/0.log.1.gz"))@\(gzCRI.badOffset)",
                "\(dir.file("rotated/abc-json.log.1.gz"))@\(gzDocker.badOffset)",
            ], "\(rejected)")
        #expect(envelopes.allSatisfy { ($0["reason"] as? String)?.contains("read as format") == true })
        #expect(rejected.count == envelopes.count, "\(rejected)")

        // The stderr lines are skipped and counted, not rejected; the gzip files are recorded as compressed.
        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(dir.read("out/manifest.json").utf8)) as? [String: Any])
        let counts = try #require(manifest["counts"] as? [String: Any])
        #expect(counts["filtered"] as? Int == 4, "\(counts)")
        #expect(export.stderr.contains(" filtered=4 "), "\(export.stderr)")
        let inputs = try #require(manifest["inputs"] as? [[String: Any]])
        #expect(inputs.filter { $0["compressed"] as? Bool == true }.count == 2, "\(inputs)")
        // Lines are the files' lines (partial pieces each count, as `run` counts them): the total is the inputs' sum.
        #expect(counts["lines"] as? Int == inputs.map { $0["lines"] as? Int ?? 0 }.reduce(0, +), "\(counts) \(inputs)")
    }

    @Test func partialRunsAnExportCannotCompleteAreRejected() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let whole = Self.event("c1")
        let open = Self.event("c2")
        let text = Self.cri(whole) + Self.cri(String(open.prefix(30)), tag: "P")
        try dir.write("cri/0.log", text)
        try Self.config(dir)
        let export = try await AgentProcess.run(
            ["export", "--config", dir.file("config.json"), "--output", dir.file("out")], currentDirectory: dir.path)
        #expect([0, 3].contains(export.status), "\(export.stderr)")
        #expect(try Self.exportedPairs(dir) == ["u-c1|i-c1"])
        let rejected = try dir.read("out/rejected.jsonl").split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(rejected.count == 1, "\(rejected)")
        #expect(rejected.first?["kind"] as? String == "incomplete_line")
        #expect(rejected.first?["offset"] as? Int == Self.cri(whole).utf8.count)
        #expect(rejected.first?["line"] as? String == String(open.prefix(30)))
    }
}
