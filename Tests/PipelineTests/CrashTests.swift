import Checkpoints
import Foundation
import Gzip
import Pipeline
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `kill -9` of the real binary at random moments, with rotations in between, checked against a model of what was
/// written: nothing is lost, and duplicates stay within what could have been in flight.
@Suite struct CrashTests {
    /// Runs the agent once to its end, or SIGKILLs it after `killAfter` (a random moment, the point of the test);
    /// returns its exit status, or nil when it was killed.
    static func runChild(config: String, killAfter: Duration?) async throws -> Int32? {
        let agent = try AgentProcess(arguments: ["run", "--once", "--config", config, "--log-level", "error"])
        if let killAfter {
            try await Task.sleep(for: killAfter)
            if agent.isRunning {
                agent.killIfRunning()
                return nil
            }
        }
        let status = try await agent.waitForExit(timeout: .seconds(300))
        try #require(status != nil, "the agent did not finish within 300 s: \(agent.log())")
        return status
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: AgentProcess.path)))
    func killNineAtRandomMomentsLosesNothing() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        standIn.setFaults(Faults(responseDelayMillis: 2))
        let log = MixedLog(count: 12_000, seed: 11)
        try log.write(to: dir)
        var expected = log.eventIds.union(log.itemIds).union(log.userIds)
        var extra = EventLines(prefix: "live")
        let config = try Harness.config(
            dir: dir, endpoint: standIn.endpoint,
            extra:
                #""batching": {"maxPendingRecords": 400}, "state": {"directory": "state", "flushIntervalMillis": 50}"#
                .replacingOccurrences(of: #", "state": {"directory": "state", "flushIntervalMillis": 50}"#, with: ""))
        _ = config
        // The harness config has its own "state"; rewrite the file with a faster flush for more kill points.
        var text = try dir.read("config.json")
        text = text.replacingOccurrences(
            of: #""state": {"directory": "state"}"#,
            with: #""state": {"directory": "state", "flushIntervalMillis": 50}"#)
        try dir.write("config.json", text)

        var rng = SplitMix(seed: 5)
        var kills = 0
        for round in 0..<12 {
            let delay = Duration.milliseconds(Int64(40 + rng.next() % 400))
            if try await Self.runChild(config: dir.file("config.json"), killAfter: delay) == nil { kills += 1 }
            // The checkpoint file is always whole.
            if FileManager.default.fileExists(atPath: dir.file("state/checkpoints.json")) {
                #expect(throws: Never.self) { _ = try DiskCheckpointStore(directory: dir.file("state")).load() }
            }
            // Meanwhile the application keeps logging and rotating.
            try dir.append("logs/app.log", extra.make(100))
            if round == 5 {
                try FileManager.default.moveItem(atPath: dir.file("logs/app.log"), toPath: dir.file("logs/app.log.2"))
                try dir.write("logs/app.log", extra.make(50))
            }
        }
        expected.formUnion(extra.ids)
        let status = try await Self.runChild(config: dir.file("config.json"), killAfter: nil)
        // Finished: 3 when this last run dead-lettered lines of the mixed log, 0 when an earlier run that was not
        // killed in time already had (which run gets there depends on the host's speed); the dead letters are
        // checked below either way.
        #expect(status == 3 || status == 0, "\(status.map(String.init) ?? "none")")

        let ids = standIn.acceptedRecords().map(\.id)
        let missing = expected.subtracting(ids)
        #expect(missing.isEmpty, "\(missing.count) missing after \(kills) kills, e.g. \(missing.sorted().prefix(5))")
        #expect(Set(ids).subtracting(expected).isEmpty)
        let duplicates = ids.count - Set(ids).count
        // Per kill: at most the pending bound (unresolved records, and resolved lines behind an unresolved one:
        // 400 each here) plus what was acknowledged since the last checkpoint write (50 ms here).
        #expect(duplicates <= kills * 3 * 400, "\(duplicates) duplicates after \(kills) kills")
        // Every bad line is in the dead-letter file (some twice, if a kill came before their checkpoint).
        var byKind: [String: Int] = [:]
        for letter in try Harness.deadLetters(dir, skippingTorn: true) {
            byKind[letter["kind"] as! String, default: 0] += 1
        }
        for (kind, count) in log.bad { #expect(byKind[kind, default: 0] >= count, "\(kind)") }
        try await standIn.shutdown()
    }
}
