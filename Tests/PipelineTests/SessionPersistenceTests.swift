import Checkpoints
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Sessions continue across `run --once` runs, restarts and `kill -9`, exactly as in one run: the sessionizer's
/// state is saved with the checkpoints, as of the checkpoints (real binary, real files, the stand-in).
@Suite struct SessionPersistenceTests {
    static let mappings = #"""
        {"e": {"target": "event", "trackingId": "T-1", "session": {"gapMinutes": 30},
          "fields": {"userId": "u", "sessionId": {"path": "sid", "fallback": "session"}, "eventType": {"const": "view"},
            "sentAt": {"path": "ts", "format": "epochSeconds"}, "eventId": "id"}}}
        """#
    /// A recent time, so the service's checks of `sentAt` never age the test out.
    static let t0 = Int(Date().timeIntervalSince1970) - 3 * 3600

    static func line(_ id: String, user: String, at seconds: Int) -> String {
        // Padded so the file is past the fingerprint's 1 KiB from its first line on.
        #"{"id":"\#(id)","u":"\#(user)","ts":\#(seconds),"pad":"\#(String(repeating: "p", count: 1100))"}"# + "\n"
    }

    static func config(_ dir: TemporaryDirectory, _ standIn: PersonalizeStandIn) throws {
        _ = try Harness.config(
            dir: dir, endpoint: standIn.endpoint, mappings: mappings,
            extra:
                #""follow": {"pollIntervalMillis": 50, "rescanIntervalMillis": 200}, "batching": {"maxWaitMillis": 20}"#
        )
        var text = try dir.read("config.json")
        text = text.replacingOccurrences(
            of: #""aws": {"region": "us-east-1", "#,
            with: #""aws": {"region": "us-east-1", "requestTimeoutSeconds": 600, "#)
        text = text.replacingOccurrences(
            of: #""state": {"directory": "state"}"#,
            with: #""state": {"directory": "state", "flushIntervalMillis": 100}"#)
        try dir.write("config.json", text)
    }

    static func once(_ dir: TemporaryDirectory, _ name: String) async throws -> Int32? {
        let agent = try AgentProcess(
            arguments: ["run", "--once", "--no-progress", "--config", dir.file("config.json"), "--log-level", "info"],
            logPath: dir.file(name))
        defer { agent.killIfRunning() }
        let status = try await agent.waitForExit(timeout: .seconds(60))
        #expect(status == 0, "\(agent.log())")
        return status
    }

    static func sessions(_ standIn: PersonalizeStandIn) -> [String: String] {
        var result: [String: String] = [:]
        for r in standIn.acceptedRecords() { result[r.id] = r.sessionId }
        return result
    }

    @Test func consecutiveCatchUpRunsContinueASession() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        try Self.config(dir, standIn)
        let t = Self.t0
        try dir.write("logs/app.log", Self.line("a1", user: "a", at: t) + Self.line("b1", user: "b", at: t))
        _ = try await Self.once(dir, "run-1.log")
        // One minute later for a (same session), 31 minutes later for b (a new one); a cron run fell between.
        try dir.append(
            "logs/app.log", Self.line("a2", user: "a", at: t + 60) + Self.line("b2", user: "b", at: t + 31 * 60))
        _ = try await Self.once(dir, "run-2.log")
        let s = Self.sessions(standIn)
        #expect(s.count == 4, "\(s)")
        #expect(s["a1"] != nil && s["a1"] == s["a2"], "\(s)")
        #expect(s["b1"] != nil && s["b2"] != nil && s["b1"] != s["b2"], "\(s)")
        // The state is saved with the checkpoints, private to the agent's user.
        var st = stat()
        #expect(stat(dir.file("state/checkpoints.json"), &st) == 0 && st.st_mode & 0o777 == 0o600)
        #expect(try dir.read("state/checkpoints.json").contains(#""sessions":"#))
        try await standIn.shutdown()
    }

    /// kill -9 while requests are out: the lines read again get the session ids they were sent with the first
    /// time, although a later line had started a new session (a state saved ahead of the checkpoints would put
    /// them in that one), and a line that comes after the restart continues the user's session.
    @Test func killNineAndRestartKeepEverySessionId() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        try Self.config(dir, standIn)
        let t = Self.t0
        let first = Self.line("a1", user: "a", at: t)
        try dir.write("logs/app.log", first)
        let agent = try AgentProcess(
            arguments: ["run", "--config", dir.file("config.json"), "--log-level", "info"],
            logPath: dir.file("follow.log"))
        defer { agent.killIfRunning() }
        #expect(await standIn.waitForRecords(1), "\(agent.log())")
        // Wait until a1 is behind the checkpoint.
        let store = DiskCheckpointStore(directory: dir.file("state"))
        #expect(
            try await eventually {
                ((try? store.load()) ?? []).contains { $0.offset == UInt64(first.utf8.count) }
            }, "\(agent.log())")

        // From now on the stand-in records requests but answers none: a2 and a3 are sent, never acknowledged.
        standIn.setFaults(Faults(responseDelayMillis: 600_000))
        try dir.append(
            "logs/app.log", Self.line("a2", user: "a", at: t + 60) + Self.line("a3", user: "a", at: t + 40 * 60))
        #expect(await standIn.waitForRecords(3), "\(agent.log())")
        let before = Self.sessions(standIn)
        #expect(before["a1"] == before["a2"] && before["a3"] != before["a2"], "\(before)")
        // Let a flush or two happen with a2 and a3 mapped but unacknowledged, then crash.
        let mark = try dir.read("state/checkpoints.json")
        _ = try await eventually(timeout: .seconds(2)) { (try? dir.read("state/checkpoints.json")) != mark }
        agent.signal(SIGKILL)
        _ = try await agent.waitForExit(timeout: .seconds(10))

        standIn.setFaults(.none)
        standIn.reset()
        try dir.append("logs/app.log", Self.line("a4", user: "a", at: t + 41 * 60))
        _ = try await Self.once(dir, "after-crash.log")
        let after = Self.sessions(standIn)
        #expect(after["a2"] == before["a2"], "before \(before), after \(after)")
        #expect(after["a3"] == before["a3"], "before \(before), after \(after)")
        #expect(after["a4"] != nil && after["a4"] == before["a3"], "before \(before), after \(after)")
        #expect(after["a1"] == nil, "a1 was checkpointed: \(after)")
        try await standIn.shutdown()
    }
}
