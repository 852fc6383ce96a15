import AgentConfig
import Foundation
import Gzip
import Pipeline
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Follow mode with real files and the rotations logrotate and crashes perform.
@Suite struct FollowTests {
    static let follow =
        #""follow": {"pollIntervalMillis": 50, "rescanIntervalMillis": 200, "shutdownTimeoutSeconds": 10}, "batching": {"maxWaitMillis": 20}"#

    func setUp(_ dir: TemporaryDirectory, _ standIn: PersonalizeStandIn, paths: [String] = ["logs/app.log*"]) throws
        -> AgentConfig
    {
        try FileManager.default.createDirectory(atPath: dir.file("logs"), withIntermediateDirectories: true)
        return try Harness.config(
            dir: dir, endpoint: standIn.endpoint, paths: paths + [FollowRun.rescanPath], extra: Self.follow)
    }

    func check(_ standIn: PersonalizeStandIn, _ lines: EventLines, duplicatesAllowed: Int = 0) {
        let ids = standIn.acceptedRecords().map(\.id)
        let missing = lines.ids.subtracting(ids)
        #expect(missing.isEmpty, "\(missing.count) missing, e.g. \(missing.sorted().prefix(5))")
        #expect(ids.count - Set(ids).count <= duplicatesAllowed, "\(ids.count - Set(ids).count) duplicates")
        #expect(Set(ids).subtracting(lines.ids).isEmpty)
    }

    @Test func appendedLinesAreDeliveredWhileFollowing() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        var lines = EventLines()
        let config = try setUp(dir, standIn)
        try dir.write("logs/app.log", lines.make(5))
        let run = FollowRun(config: config)
        #expect(await standIn.waitForRecords(5))
        // Each append is delivered while the run goes on (how soon is the benchmark's measure, not a test's).
        for round in 1...5 {
            try dir.append("logs/app.log", lines.make(3))
            #expect(await standIn.waitForRecords(5 + round * 3))
        }
        let (outcome, _) = try await run.stop()
        #expect(outcome == .completed)
        check(standIn, lines)
        try await standIn.shutdown()
    }

    @Test func partialLastLineWaitsForItsNewline() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        let config = try setUp(dir, standIn)
        try dir.write(
            "logs/app.log",
            #"{"ts":1763900000,"kind":"event","id":"p-1","user":"u","session":"s","action":"view","item":"i"}"# + "\n"
                + #"{"ts":1763900000,"kind":"event","id":"p-2","#)
        let run = FollowRun(config: config)
        #expect(await standIn.waitForRecords(1))
        #expect(try await run.waitForRescan(in: dir))
        #expect(standIn.stats.acceptedRecords == 1)
        try dir.append("logs/app.log", #""user":"u","session":"s","action":"view","item":"i"}"# + "\n")
        #expect(await standIn.waitForRecords(2))
        _ = try await run.stop()
        #expect(Set(standIn.acceptedRecords().map(\.id)) == ["p-1", "p-2"])
        try await standIn.shutdown()
    }

    @Test func renameAndCreateKeepsReadingTheOldFileToItsEnd() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        var lines = EventLines()
        let config = try setUp(dir, standIn)
        try dir.write("logs/app.log", lines.make(50))
        let run = FollowRun(config: config)
        #expect(await standIn.waitForRecords(50))
        // The writer still holds the old file: lines written after the rename land in app.log.1.
        let writer = try FileHandle(forWritingTo: URL(fileURLWithPath: dir.file("logs/app.log")))
        try writer.seekToEnd()
        try FileManager.default.moveItem(atPath: dir.file("logs/app.log"), toPath: dir.file("logs/app.log.1"))
        try writer.write(contentsOf: Data(lines.make(20).utf8))
        try writer.close()
        try dir.write("logs/app.log", lines.make(30))
        #expect(await standIn.waitForRecords(100))
        try dir.append("logs/app.log", lines.make(10))
        #expect(await standIn.waitForRecords(110))
        _ = try await run.stop()
        check(standIn, lines)
        try await standIn.shutdown()
    }

    @Test func copytruncateLosesNothing() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        var lines = EventLines()
        let config = try setUp(dir, standIn)
        try dir.write("logs/app.log", lines.make(40))
        let run = FollowRun(config: config)
        #expect(await standIn.waitForRecords(40))
        // Lines the agent may not have seen yet, then logrotate's copy + truncate, then new lines.
        try dir.append("logs/app.log", lines.make(15))
        try FileManager.default.copyItem(atPath: dir.file("logs/app.log"), toPath: dir.file("logs/app.log.1"))
        truncate(dir.file("logs/app.log"), 0)
        try dir.append("logs/app.log", lines.make(25))
        #expect(await standIn.waitForRecords(80))
        #expect(try await run.waitForRescan(in: dir))
        _ = try await run.stop()
        check(standIn, lines)
        try await standIn.shutdown()
    }

    @Test func rotatedThenGzippedCopyIsNotSentAgain() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        var lines = EventLines()
        let config = try setUp(dir, standIn)
        try dir.write("logs/app.log", lines.make(60))
        let run = FollowRun(config: config)
        #expect(await standIn.waitForRecords(60))
        try FileManager.default.moveItem(atPath: dir.file("logs/app.log"), toPath: dir.file("logs/app.log.1"))
        try dir.write("logs/app.log", lines.make(10))
        #expect(await standIn.waitForRecords(70))
        #expect(try await run.waitForRescan(in: dir))
        // logrotate's delayed compression: app.log.1 becomes app.log.1.gz, both matched by the glob for a moment.
        let old = try Data(contentsOf: URL(fileURLWithPath: dir.file("logs/app.log.1")))
        try dir.write("logs/app.log.1.gz", Gzip.compress(Array(old)))
        #expect(try await run.waitForRescan(in: dir))
        try FileManager.default.removeItem(atPath: dir.file("logs/app.log.1"))
        try dir.append("logs/app.log", lines.make(5))
        #expect(await standIn.waitForRecords(75))
        #expect(try await run.waitForRescan(in: dir))
        _ = try await run.stop()
        check(standIn, lines)
        try await standIn.shutdown()
    }

    @Test func deletedWhileOpenAndRecreatedUnderTheSameName() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        var lines = EventLines()
        let config = try setUp(dir, standIn)
        try dir.write("logs/app.log", lines.make(30))
        let run = FollowRun(config: config)
        #expect(await standIn.waitForRecords(30))
        try FileManager.default.removeItem(atPath: dir.file("logs/app.log"))
        #expect(try await run.waitForRescan(in: dir))
        // Same name, new content (possibly the same inode): read from its start.
        try dir.write("logs/app.log", lines.make(12))
        #expect(await standIn.waitForRecords(42))
        _ = try await run.stop()
        check(standIn, lines)
        try await standIn.shutdown()
    }

    @Test func restartResumesWhereTheLastRunStopped() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        var lines = EventLines()
        let config = try setUp(dir, standIn)
        try dir.write("logs/app.log", lines.make(25))
        let first = FollowRun(config: config)
        #expect(await standIn.waitForRecords(25))
        _ = try await first.stop()
        try dir.append("logs/app.log", lines.make(25))
        let second = FollowRun(config: config)
        #expect(await standIn.waitForRecords(50))
        _ = try await second.stop()
        check(standIn, lines)
        try await standIn.shutdown()
    }
}
