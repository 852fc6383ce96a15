import Checkpoints
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Follow mode, real binary: the first SIGTERM drains (waiting for in-flight requests up to
/// `follow.shutdownTimeoutSeconds`), a second one abandons them at once; their records are sent next time.
@Suite struct SecondSignalTests {
    @Test func secondSignalAbandonsUnansweredRequestsWithoutLosingThem() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        var answered = EventLines(prefix: "answered")
        var unanswered = EventLines(prefix: "unanswered")
        let firstPart = answered.make(20)
        try dir.write("logs/app.log", firstPart)
        _ = try Harness.config(
            dir: dir, endpoint: standIn.endpoint,
            extra:
                #""follow": {"pollIntervalMillis": 50, "rescanIntervalMillis": 200, "shutdownTimeoutSeconds": 600}, "batching": {"maxWaitMillis": 20}"#
        )
        // No client-side timeout during the test: the requests must stay in flight until the second signal.
        var text = try dir.read("config.json")
        text = text.replacingOccurrences(
            of: #""aws": {"region": "us-east-1", "#,
            with: #""aws": {"region": "us-east-1", "requestTimeoutSeconds": 600, "#)
        text = text.replacingOccurrences(
            of: #""state": {"directory": "state"}"#,
            with: #""state": {"directory": "state", "flushIntervalMillis": 100}"#)
        try dir.write("config.json", text)
        #expect(text.contains(#""requestTimeoutSeconds": 600"#) && text.contains(#""flushIntervalMillis": 100"#))

        let agent = try AgentProcess(
            arguments: ["run", "--config", dir.file("config.json"), "--log-level", "info"],
            logPath: dir.file("agent.log"))
        defer { agent.killIfRunning() }
        #expect(await standIn.waitForRecords(20), "\(agent.log())")

        // From now on the stand-in takes requests (and records their records) but answers none for 10 minutes.
        standIn.setFaults(Faults(responseDelayMillis: 600_000))
        try dir.append("logs/app.log", unanswered.make(15))
        #expect(await standIn.waitForRecords(35), "\(agent.log())")

        // First signal: it stops reading and waits for the answers (up to 600 s, which the test never reaches).
        agent.signal(SIGTERM)
        #expect(try await eventually { !agent.logLines(containing: "stopping").isEmpty }, "\(agent.log())")
        #expect(agent.isRunning, "exited on the first signal without waiting for in-flight requests:\n\(agent.log())")

        // Second signal: it gives up on them (it says so: it was still waiting when the signal came) and exits with
        // 4 (stopped before everything was delivered), long before the 600 s drain would have ended: the deadline
        // only catches an agent that ignores it.
        agent.signal(SIGTERM)
        let status = try await agent.waitForExit(timeout: .seconds(60))
        #expect(status != nil, "still running 60 s after the second signal:\n\(agent.log())")
        agent.killIfRunning()
        #expect(status == 4, "\(agent.log())")
        #expect(agent.logLines(containing: "second signal: abandoning").count == 1, "\(agent.log())")

        // Its checkpoint covers exactly the answered lines.
        let checkpoints = try DiskCheckpointStore(directory: dir.file("state")).load()
        let entry = try #require(checkpoints.first { $0.path.hasSuffix("logs/app.log") }, "\(checkpoints)")
        #expect(entry.offset == UInt64(firstPart.utf8.count), "\(checkpoints)")

        // The next run, against an answering stand-in, sends the unanswered records, and only those.
        standIn.setFaults(.none)
        standIn.reset()
        let next = try AgentProcess(
            arguments: ["run", "--once", "--config", dir.file("config.json"), "--log-level", "info"],
            logPath: dir.file("agent-2.log"))
        defer { next.killIfRunning() }
        let nextStatus = try await next.waitForExit(timeout: .seconds(60))
        #expect(nextStatus == 0, "\(next.log())")
        let ids = standIn.acceptedRecords().map(\.id)
        #expect(Set(ids) == unanswered.ids, "\(ids)")
        #expect(ids.count == unanswered.ids.count, "duplicates")
        try await standIn.shutdown()
    }
}
