import AgentConfig
import Checkpoints
import Foundation
import Gzip
import JSON
import Mapping
import Pipeline
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Kubernetes container logs end to end: real CRI and Docker json-file files under a kubelet-like layout, read into
/// the local stand-in; `$meta` routes and tags; partial lines joined; rotation the way the kubelet does it; a stop
/// between the pieces of a partial line; invalid envelopes dead-lettered with reasons.
@Suite struct ContainerLogTests {
    static let podDir = "var/log/pods/shop_web-5d8f_0b1c2d3e-aaaa/app"
    static let otherPodDir = "var/log/pods/kube-system_proxy-x1_99aa/proxy"
    static let containerId = String(repeating: "ab", count: 32)

    /// Events only from namespace `shop`, sentAt from the runtime when the application has none, tagged with the pod.
    static let mappings = #"""
        {
          "shop-events": {
            "target": "event", "trackingId": "tracker-1",
            "when": {"all": [{"field": "$meta.namespace", "equals": "shop"}, {"field": "kind", "equals": "event"}]},
            "fields": {
              "eventId": "id", "userId": "user", "sessionId": "session", "eventType": "action", "itemId": "item",
              "sentAt": {"paths": ["ts", "$meta.time"]},
              "properties": {"pod": "$meta.pod", "container": "$meta.container", "stream": "$meta.stream"}
            }
          }
        }
        """#

    static func config(
        _ dir: TemporaryDirectory, endpoint: String, format: String, paths: [String], streams: String = "",
        maxLineBytes: Int = 4096, flush: Int = 1000
    ) throws -> String {
        let pathList = paths.map { "\"\(dir.file($0))\"" }.joined(separator: ", ")
        let text = """
            {
              "aws": {"region": "us-east-1", "endpoint": "\(endpoint)", "maxConcurrentRequests": 8},
              "state": {"directory": "state", "flushIntervalMillis": \(flush)},
              "sources": [{"name": "k8s", "format": "\(format)", "paths": [\(pathList)], "maxLineBytes": \(maxLineBytes)\(streams)}],
              "unmatched": "deadLetter",
              "mappings": \(mappings)
            }
            """
        try dir.write("config.json", text)
        return dir.file("config.json")
    }

    static func event(_ id: String, ts: Bool = true) -> String {
        #"{"kind":"event","id":"\#(id)","user":"u1","session":"s1","action":"click","item":"i-\#(id)"\#(ts ? #","ts":"2026-12-05T21:00:00Z""# : "")}"#
    }

    static let time = "2026-12-05T22:00:00.123456789Z"

    static func cri(_ content: String, tag: String = "F", stream: String = "stdout") -> String {
        "\(time) \(stream) \(tag) \(content)\n"
    }

    static func docker(_ content: String, stream: String = "stdout") -> String {
        // Docker's member order; the log string escaped by Foundation (which also escapes "/").
        let log = String(
            decoding: try! JSONSerialization.data(withJSONObject: content, options: .fragmentsAllowed), as: UTF8.self)
        return #"{"log":\#(log),"stream":"\#(stream)","time":"\#(time)"}"# + "\n"
    }

    /// `/var/log/containers/<pod>_<namespace>_<container>-<id>.log` -> the pod directory's `0.log`.
    static func linkContainer(
        _ dir: TemporaryDirectory, pod: String, namespace: String, container: String, target: String
    ) throws {
        try FileManager.default.createDirectory(
            atPath: dir.file("var/log/containers"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: dir.file("var/log/containers/\(pod)_\(namespace)_\(container)-\(containerId).log"),
            withDestinationPath: dir.file(target))
    }

    static func append(_ dir: TemporaryDirectory, _ path: String, _ text: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dir.file(path)))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    static func once(_ path: String) async throws -> RunReport {
        let config = try AgentConfig.load(path: path)
        return try await Agent.run(
            config: config, options: RunOptions(once: true), environment: Harness.environment, logger: Harness.quiet)
    }

    static func eventIds(_ standIn: PersonalizeStandIn) -> [String] {
        standIn.acceptedRecords().filter { $0.operation == .putEvents }.compactMap(\.eventId).sorted()
    }

    @Test func criLogsUnwrappedJoinedRoutedAndTagged() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        let long = Self.event("long", ts: false)
        let cut = long.utf8.count / 3
        let pieces = [
            String(long.utf8.prefix(cut))!, String(long.utf8.dropFirst(cut).prefix(cut))!,
            String(long.utf8.dropFirst(2 * cut))!,
        ]
        var text = Self.cri(Self.event("a"))
        text += Self.cri(pieces[0], tag: "P")
        text += Self.cri("{\"kind\":\"noise\"}", stream: "stderr")  // stderr between the pieces: filtered
        text += Self.cri(pieces[1], tag: "P")
        text += Self.cri(pieces[2])
        text += "garbage that is no CRI line\n"
        text += Self.cri("not json at all")
        text += Self.cri(Self.event("b"))
        try dir.write(Self.podDir + "/0.log", text)
        try dir.write(Self.otherPodDir + "/0.log", Self.cri(Self.event("other")))
        try Self.linkContainer(
            dir, pod: "web-5d8f", namespace: "shop", container: "app", target: Self.podDir + "/0.log")
        try Self.linkContainer(
            dir, pod: "proxy-x1", namespace: "kube-system", container: "proxy", target: Self.otherPodDir + "/0.log")
        let config = try Self.config(
            dir, endpoint: standIn.endpoint, format: "cri", paths: ["var/log/containers/*.log"],
            streams: #", "streams": ["stdout"]"#)

        let report = try await Self.once(config)
        #expect(report.outcome == .completed)
        #expect(Self.eventIds(standIn) == ["a", "b", "long"])
        let records = Dictionary(
            uniqueKeysWithValues: standIn.acceptedRecords().compactMap { r in r.eventId.map { ($0, r) } })
        let tagged = try #require(records["long"])
        #expect(tagged.json.contains(#"\"pod\":\"web-5d8f\""#) && tagged.json.contains(#"\"container\":\"app\""#))
        #expect(tagged.json.contains(#"\"stream\":\"stdout\""#))
        // No "ts": sentAt is the runtime's time (22:00:00.123Z, in seconds on the wire).
        #expect(tagged.json.contains(#""sentAt":1796508000"#))

        let letters = try Harness.deadLetters(dir)
        let kinds = letters.map { $0["kind"] as! String }
        #expect(kinds.sorted() == ["invalid_envelope", "malformed_json", "unmatched"].sorted())
        let envelope = try #require(letters.first { $0["kind"] as? String == "invalid_envelope" })
        #expect((envelope["reason"] as! String).contains("RFC 3339 time"))
        #expect(envelope["line"] as? String == "garbage that is no CRI line")
        let garbageOffset =
            text.utf8.count - Self.cri(Self.event("b")).utf8.count - Self.cri("not json at all").utf8.count
            - "garbage that is no CRI line\n".utf8.count
        #expect(envelope["offset"] as? Int == garbageOffset)
        let malformed = try #require(letters.first { $0["kind"] as? String == "malformed_json" })
        #expect(malformed["line"] as? String == "not json at all")
        // The kube-system line matched no mapping: unmatched, with the application's line.
        let unmatched = try #require(letters.first { $0["kind"] as? String == "unmatched" })
        #expect(unmatched["line"] as? String == Self.event("other"))

        // Everything was checkpointed: a second run reads nothing.
        let again = try await Self.once(config)
        #expect(again.stats.linesRead == 0 && again.stats.recordsSent == 0)
        try await standIn.shutdown()
    }

    @Test func dockerLogsUnwrappedAndPiecesJoined() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        let long = Self.event("long")
        var text = Self.docker(Self.event("a") + "\n")
        for k in stride(from: 0, to: long.utf8.count, by: 40) {
            let piece = String(long.utf8.dropFirst(k).prefix(40))!
            text += Self.docker(k + 40 >= long.utf8.count ? piece + "\n" : piece)
        }
        text += Self.docker(Self.event("err") + "\n", stream: "stderr")
        text += "{\"log\":\"x\"}\n"
        try dir.write("var/lib/docker/containers/\(Self.containerId)/\(Self.containerId)-json.log", text)
        try Self.linkContainer(
            dir, pod: "web-5d8f", namespace: "shop", container: "app",
            target: "var/lib/docker/containers/\(Self.containerId)/\(Self.containerId)-json.log")
        // `auto` recognises the Docker envelope by the first line.
        let config = try Self.config(
            dir, endpoint: standIn.endpoint, format: "auto", paths: ["var/log/containers/*.log"])
        let report = try await Self.once(config)
        #expect(report.outcome == .completed)
        #expect(Self.eventIds(standIn) == ["a", "err", "long"])
        let letters = try Harness.deadLetters(dir)
        #expect(letters.map { $0["kind"] as! String } == ["invalid_envelope"])
        #expect((letters.first?["reason"] as? String)?.contains("\"stream\"") == true)
        try await standIn.shutdown()
    }

    /// A stop between the pieces of a partial line: the checkpoint stays at the start of the run, and the next run
    /// reads the whole run again once its last piece is there, sending the joined line once.
    @Test func stopBetweenPiecesOfAPartialLineLosesAndRepeatsNothing() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        let long = Self.event("long")
        let half = long.utf8.count / 2
        let before = Self.cri(Self.event("a"))
        try dir.write(Self.podDir + "/0.log", before + Self.cri(String(long.utf8.prefix(half))!, tag: "P"))
        let config = try Self.config(dir, endpoint: standIn.endpoint, format: "cri", paths: [Self.podDir + "/*.log"])
        let first = try await Self.once(config)
        #expect(first.outcome == .completed)
        #expect(Self.eventIds(standIn) == ["a"])
        let saved = try DiskCheckpointStore(directory: dir.file("state")).load()
        #expect(saved.map(\.offset) == [UInt64(before.utf8.count)])

        try Self.append(
            dir, Self.podDir + "/0.log", Self.cri(String(long.utf8.dropFirst(half))!) + Self.cri(Self.event("b")))
        let second = try await Self.once(config)
        #expect(second.outcome == .completed)
        #expect(Self.eventIds(standIn) == ["a", "b", "long"])
        #expect(try Harness.deadLetters(dir).isEmpty)
        try await standIn.shutdown()
    }

    /// The kubelet's rotation: `0.log` renamed to `0.log.<time>` (the runtime reopens a new `0.log`), later
    /// compressed. A partial line cut by the rotation is dead-lettered in its two parts, nothing else is lost or sent
    /// twice, and the compressed copy is recognised as read.
    @Test func kubeletRotationResumesExactly() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        let live = Self.podDir + "/0.log"
        try dir.write(live, (0..<50).map { Self.cri(Self.event("r0-\($0)")) }.joined())
        try Self.linkContainer(dir, pod: "web-5d8f", namespace: "shop", container: "app", target: live)
        let path = try Self.config(
            dir, endpoint: standIn.endpoint, format: "cri",
            paths: ["var/log/containers/*.log", "var/log/pods/*/*/*.log.*"], flush: 50)
        let run = FollowRun(config: try AgentConfig.load(path: path))
        #expect(await standIn.waitForRecords(50))

        // More lines, the first half of a line, then the rotation; the rest of that line goes to the new file.
        let cutLine = Self.event("cut")
        let half = cutLine.utf8.count / 2
        try Self.append(
            dir, live,
            (50..<80).map { Self.cri(Self.event("r0-\($0)")) }.joined()
                + Self.cri(String(cutLine.utf8.prefix(half))!, tag: "P"))
        let rotated = Self.podDir + "/0.log.20261205-220000"
        try FileManager.default.moveItem(atPath: dir.file(live), toPath: dir.file(rotated))
        try dir.write(
            live,
            Self.cri(String(cutLine.utf8.dropFirst(half))!) + (0..<40).map { Self.cri(Self.event("r1-\($0)")) }.joined()
        )
        #expect(await standIn.waitForRecords(120))
        // The kubelet compresses the rotated file afterwards.
        let plain = try Data(contentsOf: URL(fileURLWithPath: dir.file(rotated)))
        try Data(Gzip.compress(Array(plain))).write(to: URL(fileURLWithPath: dir.file(rotated + ".gz")))
        try FileManager.default.removeItem(atPath: dir.file(rotated))
        try Self.append(dir, live, (40..<60).map { Self.cri(Self.event("r1-\($0)")) }.joined())
        #expect(await standIn.waitForRecords(140))
        let letterKinds = { try Harness.deadLetters(dir).map { $0["kind"] as! String }.sorted() }
        #expect(try await eventually { try letterKinds() == ["incomplete_line", "malformed_json"] })
        _ = try await run.stop()

        let expected = ((0..<80).map { "r0-\($0)" } + (0..<60).map { "r1-\($0)" }).sorted()
        #expect(Self.eventIds(standIn) == expected)
        let letters = try Harness.deadLetters(dir)
        let incomplete = try #require(letters.first { $0["kind"] as? String == "incomplete_line" })
        #expect(incomplete["line"] as? String == String(cutLine.utf8.prefix(half))!)
        let rest = try #require(letters.first { $0["kind"] as? String == "malformed_json" })
        #expect(rest["line"] as? String == String(cutLine.utf8.dropFirst(half))!)
        #expect(rest["offset"] as? Int == 0)

        // A later run (the agent restarted) finds nothing new, in the live file or the compressed one.
        let again = try await Self.once(path)
        #expect(again.stats.recordsSent == 0)
        #expect(Self.eventIds(standIn) == expected)
        try await standIn.shutdown()
    }

    /// `kill -9` of the real binary while a partial line waits for its last piece.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: AgentProcess.path)))
    func killNineBetweenPiecesOfAPartialLine() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        let long = Self.event("long")
        let third = long.utf8.count / 3
        let before = (0..<20).map { Self.cri(Self.event("k\($0)")) }.joined()
        try dir.write(Self.podDir + "/0.log", before + Self.cri(String(long.utf8.prefix(third))!, tag: "P"))
        let config = try Self.config(
            dir, endpoint: standIn.endpoint, format: "cri", paths: [Self.podDir + "/*.log"], flush: 50)
        let agent = try AgentProcess(
            arguments: ["run", "--config", config, "--log-level", "info"], logPath: dir.file("agent.log"))
        defer { agent.killIfRunning() }
        #expect(await standIn.waitForRecords(20))
        try Self.append(
            dir, Self.podDir + "/0.log", Self.cri(String(long.utf8.dropFirst(third).prefix(third))!, tag: "P"))
        // The checkpoint reaches the start of the run and stays there.
        let store = DiskCheckpointStore(directory: dir.file("state"))
        #expect(try await eventually { (try? store.load())?.map(\.offset) == [UInt64(before.utf8.count)] })
        agent.signal(SIGKILL)
        _ = try await agent.waitForExit(timeout: .seconds(20))

        try Self.append(
            dir, Self.podDir + "/0.log",
            Self.cri(String(long.utf8.dropFirst(2 * third))!) + Self.cri(Self.event("after")))
        let second = try AgentProcess(
            arguments: ["run", "--once", "--config", config, "--log-level", "error"], logPath: dir.file("agent2.log"))
        defer { second.killIfRunning() }
        #expect(try await second.waitForExit(timeout: .seconds(60)) == 0)
        let expected = ((0..<20).map { "k\($0)" } + ["after", "long"]).sorted()
        #expect(Self.eventIds(standIn) == expected)
        #expect(try Harness.deadLetters(dir).isEmpty)
        try await standIn.shutdown()
    }

    /// The DaemonSet example's config.json is valid, and its mapping takes the `shop` namespace's `web` containers only.
    @Test func daemonSetExampleConfigSelectsOneApplication() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let yaml = try String(
            contentsOf: root.appendingPathComponent("examples/deploy/daemonset.yaml"), encoding: .utf8)
        var lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)[...]
        while let first = lines.first, !first.hasSuffix("config.json: |") { lines.removeFirst() }
        lines = lines.dropFirst()
        let json = lines.prefix { $0.isEmpty || $0.hasPrefix("    ") }.map { $0.dropFirst(min(4, $0.count)) }.joined(
            separator: "\n")
        let config = try AgentConfig.parse(try JSONParser.parse(Array(json.utf8)), baseDirectory: "/")
        #expect(
            config.sources.map(\.paths) == [
                ["/var/log/containers/*_shop_web-*.log", "/var/log/pods/shop_*/web/*.log.*"]
            ])
        #expect(config.state.directory == "/var/lib/personalize-tail")
        let mapper = Mapper(mappings: config.mappings)
        let line = #"{"event":"View","user":{"id":"u1"},"session":"s1","product":{"sku":"p1"}}"#
        func mapped(_ namespace: String, _ container: String) throws -> Int {
            let context = RecordContext(
                sourceName: "shop-web", path: "/var/log/containers/web-1_\(namespace)_\(container)-0a.log",
                fingerprint: "f",
                meta: RecordMeta(
                    namespace: namespace, pod: "web-1", container: container, stream: "stdout", time: Self.time))
            return try Array(line.utf8).withUnsafeBytes { try mapper.apply(line: $0, context: context) }.filter {
                if case .record = $0 { true } else { false }
            }.count
        }
        #expect(try mapped("shop", "web") == 1)
        #expect(try mapped("shop", "sidecar") == 0)
        #expect(try mapped("other", "web") == 0)
    }

    /// `format` and `streams` are checked at start-up, with the key's JSON path and the fix.
    @Test func containerSettingsAreCheckedAtStartUp() throws {
        func issues(_ source: String) -> [String] {
            let text =
                #"{"sources": [\#(source)], "mappings": {"m": {"target": "user", "#
                + #""datasetArn": "arn:aws:personalize:us-east-1:1:dataset/x/USERS", "fields": {"userId": "id"}}}}"#
            do {
                _ = try AgentConfig.parse(try JSONParser.parse(text), baseDirectory: "/")
                return []
            } catch let error as ConfigError {
                return error.issues.map(\.description)
            } catch {
                return ["\(error)"]
            }
        }
        #expect(issues(#"{"paths": ["a"], "format": "cri", "streams": ["stdout"]}"#).isEmpty)
        #expect(issues(#"{"paths": ["a"], "format": "docker"}"#).isEmpty)
        let wrong = issues(#"{"paths": ["a"], "format": "jsonl", "streams": ["stdout", "stdin"]}"#)
        #expect(wrong.count == 2)
        #expect(wrong.contains { $0.hasPrefix("sources[0].streams:") && $0.contains("only to container logs") })
        #expect(wrong.contains { $0.hasPrefix("sources[0].streams[1]:") && $0.contains("\"stdout\" or \"stderr\"") })
        #expect(issues(#"{"paths": ["a"], "format": "crio"}"#).first?.hasPrefix("sources[0].format") == true)
    }
}
