import Foundation
import TestSupport
import Testing

/// `run --once --since/--until`: an empty window is refused before anything is read or any checkpoint moves.
@Suite struct RunWindowTests {
    @Test(arguments: [("2026-11-02T00:00:00Z", "2026-11-01T00:00:00Z"), ("1762000000", "1762000000")])
    func untilNotAfterSinceIsAUsageError(since: String, until: String) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var lines = EventLines(prefix: "w")
        try dir.write("logs/app.log", lines.make(20))
        _ = try Harness.config(dir: dir, endpoint: "http://127.0.0.1:9")
        let agent = try AgentProcess(
            arguments: ["run", "--once", "--config", dir.file("config.json"), "--since", since, "--until", until],
            logPath: dir.file("agent.log"))
        defer { agent.killIfRunning() }
        let status = try await agent.waitForExit(timeout: .seconds(30))
        #expect(status == 64, "\(agent.log())")
        #expect(agent.log().contains("--until must be later than --since"), "\(agent.log())")
        #expect(!FileManager.default.fileExists(atPath: dir.file("state/checkpoints.json")))
    }
}
