import AgentConfig
import Checkpoints
import Foundation
import Gzip
import Pipeline
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 15: what a file is while it is short, copied, shares a head with another, or is a finished archive; and
/// derived event ids that never change for a line.
@Suite struct IdentityTests {
    /// Events keyed by `itemId` (unique per line) with no `eventId` rule: the id is derived by default.
    static let derivedMappings = #"""
        {"events": {"target": "event", "trackingId": "tracker-1", "when": {"field": "kind", "equals": "event"},
          "fields": {"itemId": "id", "userId": "user", "sessionId": "session", "eventType": "action",
                     "sentAt": {"path": "ts", "format": "auto"}}}}
        """#

    static func config(
        _ dir: TemporaryDirectory, _ standIn: PersonalizeStandIn, follow: Bool = false,
        extraFollow: String = ""
    ) throws -> AgentConfig {
        try FileManager.default.createDirectory(atPath: dir.file("logs"), withIntermediateDirectories: true)
        let extra =
            follow
            ? #""follow": {"pollIntervalMillis": 50, "rescanIntervalMillis": 200, "shutdownTimeoutSeconds": 10\#(extraFollow)}, "batching": {"maxWaitMillis": 20}"#
            : ""
        return try Harness.config(
            dir: dir, endpoint: standIn.endpoint, paths: ["logs/app.log*"] + (follow ? [FollowRun.rescanPath] : []),
            mappings: derivedMappings, extra: extra)
    }

    static func once(_ config: AgentConfig) async throws -> RunReport {
        try await Agent.run(
            config: config, options: RunOptions(once: true), environment: Harness.environment,
            logger: Harness.quiet)
    }

    /// Every line's deliveries carry one event id (by content: the line's unique `id`, sent as `itemId`).
    static func idsByLine(_ standIn: PersonalizeStandIn) -> [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        for r in standIn.acceptedRecords() { result[r.itemId ?? "?", default: []].insert(r.eventId ?? "none") }
        return result
    }

    // MARK: Item 1

    @Test func gzipArchiveWithoutATrailingNewlineIsSentWhole() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        var lines = EventLines()
        let config = try Self.config(dir, standIn)
        var text = Array(lines.make(50).utf8)
        text.removeLast()
        _ = try dir.write("logs/app.log.1.gz", Gzip.compress(text))
        let report = try await Self.once(config)
        #expect(report.exitStatus == .delivered)
        #expect(Set(standIn.acceptedRecords().compactMap(\.itemId)) == lines.ids)
        let entry = try DiskCheckpointStore(directory: dir.file("state")).load().first
        #expect(entry?.offset == UInt64(text.count))
        #expect(entry?.finished == true)
        _ = try await Self.once(config)
        #expect(standIn.acceptedRecords().count == 50)
        try await standIn.shutdown()
    }

    @Test func overLongUnterminatedLastLineOfAnArchiveIsDeadLettered() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        var lines = EventLines()
        let config = try Self.config(dir, standIn)
        let long = #"{"kind":"event","pad":""# + String(repeating: "x", count: MixedLog.maxLineBytes + 10) + "\"}"
        _ = try dir.write("logs/app.log.1.gz", Gzip.compress(Array((lines.make(3) + long).utf8)))
        let report = try await Self.once(config)
        #expect(report.exitStatus == .deadLettered)
        #expect(standIn.acceptedRecords().count == 3)
        let letters = try Harness.deadLetters(dir)
        #expect(letters.map { $0["kind"] as? String } == ["line_too_long"])
        try await standIn.shutdown()
    }

    // MARK: Item 2

    /// A crash after sending and before the checkpoint moved: the short file has grown by the next run, and its
    /// lines must come again under the same ids.
    @Test func derivedIdsStayFixedWhileAShortFileGrows() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        var lines = EventLines()
        let config = try Self.config(dir, standIn)
        _ = try dir.write("logs/app.log", lines.make(3))
        _ = try await Self.once(config)
        #expect(standIn.acceptedRecords().count == 3)
        // The crash: the checkpoint is back where it was before those lines were acknowledged.
        let store = DiskCheckpointStore(directory: dir.file("state"))
        var saved = try store.load()
        #expect(saved.count == 1)
        saved[0].offset = 0
        try store.save(saved)
        try dir.append("logs/app.log", lines.make(20))
        _ = try await Self.once(config)
        let ids = Self.idsByLine(standIn)
        #expect(Set(ids.keys) == lines.ids)
        for (line, set) in ids { #expect(set.count == 1, "\(line) was sent under \(set.count) ids") }
        // Rotated and compressed: still the same ids if read again.
        try FileManager.default.moveItem(atPath: dir.file("logs/app.log"), toPath: dir.file("logs/app.log.1"))
        saved = try store.load()
        saved[0].offset = 0
        try store.save(saved)
        _ = try await Self.once(config)
        for (line, set) in Self.idsByLine(standIn) {
            #expect(set.count == 1, "\(line) was sent under \(set.count) ids")
        }
        try await standIn.shutdown()
    }

    // MARK: Item 8

    @Test func filesSharingTheirFirstKiBAreBothRead() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        let config = try Self.config(dir, standIn)
        let banner =
            (0..<12).map {
                #"{"kind":"banner","text":"service started; version 1.2.3; build \#($0) of the shared header"}"#
            }
            .joined(separator: "\n") + "\n"
        #expect(banner.utf8.count > 1024)
        var a = EventLines(prefix: "a")
        var b = EventLines(prefix: "b")
        _ = try dir.write("logs/app.log", banner + a.make(30))
        _ = try dir.write("logs/app.log.other", banner + b.make(40))
        let report = try await Self.once(config)
        #expect(report.exitStatus == .deadLettered || report.exitStatus == .delivered)
        #expect(Set(standIn.acceptedRecords().compactMap(\.itemId)) == a.ids.union(b.ids))
        // Both keep their own checkpoints: nothing is sent again.
        _ = try await Self.once(config)
        #expect(standIn.acceptedRecords().count == 70)
        try await standIn.shutdown()
    }

    // MARK: Items 9 and 10 (follow mode)

    func expectEachLineOnce(_ standIn: PersonalizeStandIn, _ lines: EventLines) {
        let sent = standIn.acceptedRecords().compactMap(\.itemId)
        #expect(Set(sent) == lines.ids)
        #expect(sent.count == Set(sent).count, "\(sent.count - Set(sent).count) duplicates")
    }

    @Test func copytruncateAfterLinesWrittenSinceTheCopyWereReadSendsNothingAgain() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        var lines = EventLines()
        let config = try Self.config(dir, standIn, follow: true)
        _ = try dir.write("logs/app.log", lines.make(200))
        let run = FollowRun(config: config)
        #expect(await standIn.waitForRecords(200))
        try FileManager.default.copyItem(atPath: dir.file("logs/app.log"), toPath: dir.file("logs/app.log.1"))
        try dir.append("logs/app.log", lines.make(3))
        #expect(await standIn.waitForRecords(203))
        truncate(dir.file("logs/app.log"), 0)
        #expect(try await run.waitForRescan(in: dir))
        try dir.append("logs/app.log", lines.make(5))
        #expect(await standIn.waitForRecords(208))
        #expect(try await run.waitForRescan(in: dir))
        _ = try await run.stop()
        expectEachLineOnce(standIn, lines)
        try await standIn.shutdown()
    }

    /// The same, without a rescan between the copy and the truncate: the copy is first seen after the truncate.
    @Test func copytruncateSeenOnlyAfterTheTruncateSendsNothingAgain() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        var lines = EventLines()
        let config = try Self.config(dir, standIn, follow: true)
        _ = try dir.write("logs/app.log", lines.make(200))
        let run = FollowRun(config: config)
        #expect(await standIn.waitForRecords(200))
        // The copy goes outside the glob first, so no scan sees it before the truncate.
        try FileManager.default.copyItem(atPath: dir.file("logs/app.log"), toPath: dir.file("app.log.copy"))
        try dir.append("logs/app.log", lines.make(3))
        #expect(await standIn.waitForRecords(203))
        truncate(dir.file("logs/app.log"), 0)
        try FileManager.default.moveItem(atPath: dir.file("app.log.copy"), toPath: dir.file("logs/app.log.1"))
        #expect(try await run.waitForRescan(in: dir))
        try dir.append("logs/app.log", lines.make(5))
        #expect(await standIn.waitForRecords(208))
        #expect(try await run.waitForRescan(in: dir))
        _ = try await run.stop()
        expectEachLineOnce(standIn, lines)
        try await standIn.shutdown()
    }

    @Test(arguments: [false, true])
    func copyOfAShortFollowedFileIsNotReadAgain(truncateAfter: Bool) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        var lines = EventLines()
        let config = try Self.config(dir, standIn, follow: true)
        _ = try dir.write("logs/app.log", lines.make(3))
        let run = FollowRun(config: config)
        #expect(await standIn.waitForRecords(3))
        try FileManager.default.copyItem(atPath: dir.file("logs/app.log"), toPath: dir.file("logs/app.log.1"))
        #expect(try await run.waitForRescan(in: dir))  // a rescan sees the copy beside its original
        try dir.append("logs/app.log", lines.make(2))
        #expect(await standIn.waitForRecords(5))
        if truncateAfter {
            truncate(dir.file("logs/app.log"), 0)
            #expect(try await run.waitForRescan(in: dir))
        }
        try dir.append("logs/app.log", lines.make(2))
        #expect(await standIn.waitForRecords(7))
        #expect(try await run.waitForRescan(in: dir))
        _ = try await run.stop()
        expectEachLineOnce(standIn, lines)
        try await standIn.shutdown()
    }

    // MARK: Item 12

    @Test func truncatedGzipBeingFollowedIsReportedOnceItStopsGrowing() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        var lines = EventLines()
        let config = try Self.config(dir, standIn, follow: true, extraFollow: #", "incompleteGzipSeconds": 0.5"#)
        let whole = Gzip.compress(Array(lines.make(100).utf8))
        _ = try dir.write("logs/app.log.1.gz", Array(whole.prefix(whole.count * 2 / 3)))
        let run = FollowRun(config: config)
        #expect(
            try await eventually(timeout: .seconds(20)) {
                try Harness.deadLetters(dir).contains { $0["kind"] as? String == "corrupt_gzip" }
            })
        _ = try await run.stop()
        #expect(standIn.acceptedRecords().count > 0)
        // Reported once (the cut last line, if any, is dead-lettered as what it is).
        #expect(try Harness.deadLetters(dir).filter { $0["kind"] as? String == "corrupt_gzip" }.count == 1)
        try await standIn.shutdown()
    }
}
