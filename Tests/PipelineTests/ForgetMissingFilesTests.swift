import Checkpoints
import Foundation
import Pipeline
import TestSupport
import Testing

/// `state.forgetMissingFilesAfterSeconds`: the checkpoints keep files the globs still list, not every file ever
/// seen. Catch-up runs (cron) count the time across runs: the moment a file went missing is saved with its entry.
@Suite struct ForgetMissingFilesTests {
    func checkpoints(_ dir: TemporaryDirectory) throws -> [FileCheckpoint] {
        try DiskCheckpointStore(directory: dir.file("state")).load()
    }

    @Test func aDeletedFilesCheckpointIsMarkedThenForgottenAcrossRuns() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        var lines = EventLines(prefix: "f")
        try dir.write("logs/app.log.1", lines.make(40))
        try dir.write("logs/app.log", lines.make(40))
        // The shortest delay the key takes; the test moves the saved moment back instead of waiting.
        let config = try Harness.config(
            dir: dir, endpoint: standIn.endpoint,
            state: #"{"directory": "state", "forgetMissingFilesAfterSeconds": 60}"#)
        var once: Pipeline.RunReport {
            get async throws {
                try await Agent.run(
                    config: config, options: RunOptions(once: true), environment: Harness.environment,
                    logger: Harness.quiet)
            }
        }
        #expect(try await once.outcome == .completed)
        #expect(Set(standIn.acceptedRecords().map(\.id)) == lines.ids)
        #expect(try checkpoints(dir).count == 2)

        // logrotate's retention deletes the old file: the next run marks its entry, keeps it, and sends nothing.
        try FileManager.default.removeItem(atPath: dir.file("logs/app.log.1"))
        let beforeSecond = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(try await once.outcome == .completed)
        var saved = try checkpoints(dir)
        #expect(saved.count == 2)
        let marked = try #require(saved.first { $0.path.hasSuffix("app.log.1") })
        #expect((marked.missingSince ?? 0) >= beforeSecond)
        #expect(saved.first { $0.path.hasSuffix("app.log") }?.missingSince == nil)

        // Not yet 60 s: kept.
        #expect(try await once.outcome == .completed)
        #expect(try checkpoints(dir).count == 2)

        // Missing for longer than the delay (the saved moment moved back 61 s): forgotten.
        saved = saved.map {
            var c = $0
            if c.missingSince != nil { c.missingSince = c.missingSince! - 61_000 }
            return c
        }
        try DiskCheckpointStore(directory: dir.file("state")).save(saved)
        let report = try await once
        #expect(report.outcome == .completed)
        #expect(report.stats.checkpointsForgotten == 1)
        let left = try checkpoints(dir)
        #expect(left.map { ($0.path as NSString).lastPathComponent } == ["app.log"])
        #expect(standIn.acceptedRecords().count == lines.ids.count)  // nothing sent again at any step
    }
}
