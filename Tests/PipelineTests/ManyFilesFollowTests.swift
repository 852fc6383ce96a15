import AgentConfig
import Foundation
import Pipeline
import TestSupport
import Testing

/// More files than `follow.maxOpenFiles`: files whose reader was closed to respect the cap keep delivering, plain
/// files and symbolic links to files in another directory (as in /var/log/containers), whose writes inotify reports
/// in the directory of the file the link leads to.
@Suite struct ManyFilesFollowTests {
    static let follow =
        #""follow": {"pollIntervalMillis": 50, "rescanIntervalMillis": 200, "maxOpenFiles": 4, "shutdownTimeoutSeconds": 10}, "batching": {"maxWaitMillis": 20}"#

    @Test func filesOverTheOpenFileCapKeepDelivering() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        var lines = EventLines()
        for sub in ["logs", "links", "targets"] {
            try FileManager.default.createDirectory(atPath: dir.file(sub), withIntermediateDirectories: true)
        }
        let plain = (0..<8).map { "logs/app-\($0).log" }
        let targets = (0..<4).map { "targets/c-\($0).log" }
        for name in plain + targets { try dir.write(name, lines.make(2)) }
        for (i, target) in targets.enumerated() {
            try FileManager.default.createSymbolicLink(
                atPath: dir.file("links/c-\(i).log"), withDestinationPath: dir.file(target))
        }
        let config = try Harness.config(
            dir: dir, endpoint: standIn.endpoint, paths: ["logs/*.log", "links/*.log", FollowRun.rescanPath],
            extra: Self.follow)
        let run = FollowRun(config: config)
        var expected = 2 * (plain.count + targets.count)
        #expect(await standIn.waitForRecords(expected))
        // One file at a time, so each append finds the others' readers open and its own closed (12 files, 4 open).
        for round in 1...2 {
            for name in plain + targets {
                try dir.append(name, lines.make(1))
                expected += 1
                #expect(await standIn.waitForRecords(expected), "round \(round): \(name)")
            }
        }
        let (outcome, _) = try await run.stop()
        #expect(outcome == .completed)
        let ids = standIn.acceptedRecords().map(\.id)
        #expect(lines.ids == Set(ids))
        #expect(ids.count == Set(ids).count)
        try await standIn.shutdown()
    }
}
