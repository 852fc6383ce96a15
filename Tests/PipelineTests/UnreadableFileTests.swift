import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Follow mode, real binary: a matched file the agent may not read is reported once, does not hold up the others,
/// and is read at a rescan once it becomes readable; the agent keeps running throughout.
@Suite struct UnreadableFileTests {
    static let follow =
        #""follow": {"pollIntervalMillis": 50, "rescanIntervalMillis": 100, "shutdownTimeoutSeconds": 10}, "batching": {"maxWaitMillis": 20}"#

    /// Root ignores file modes (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH). As root, the agent runs through `setpriv`
    /// with those two capabilities dropped from its bounding set: it stays uid 0 and owns the test's files, but
    /// mode 000 now applies to it. As any other user, mode 000 is enough on its own.
    static func withoutFileModeOverride() throws -> [String] {
        guard getuid() == 0 else { return [] }
        try #require(
            ChildProcess.setpriv != nil,
            "running as root: setpriv (util-linux) is needed to drop CAP_DAC_OVERRIDE for this test")
        return ChildProcess.without(capabilities: ["dac_override", "dac_read_search"])
    }

    /// Whether `cat` run through `prefix` can read `path` (checks that the set-up really makes the file unreadable).
    static func canRead(_ path: String, prefix: [String]) throws -> Bool {
        try ChildProcess.runBlocking(prefix + ["/bin/cat", path]).status == 0
    }

    @Test func unreadableFileIsReportedOnceAndReadWhenItBecomesReadable() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        var readable = EventLines(prefix: "readable")
        var locked = EventLines(prefix: "locked")
        try dir.write("logs/a.log", readable.make(40))
        let lockedPath = try dir.write("logs/b.log", locked.make(25))
        #expect(chmod(lockedPath, 0) == 0)
        _ = try Harness.config(dir: dir, endpoint: standIn.endpoint, paths: ["logs/*.log"], extra: Self.follow)

        let prefix = try Self.withoutFileModeOverride()
        try #require(
            !(try Self.canRead(lockedPath, prefix: prefix)), "the test could not make \(lockedPath) unreadable")
        try #require(try Self.canRead(dir.file("logs/a.log"), prefix: prefix))

        let agent = try AgentProcess(
            arguments: ["run", "--config", dir.file("config.json"), "--log-level", "info"],
            logPath: dir.file("agent.log"), prefix: prefix)
        defer { agent.killIfRunning() }

        // The readable file is delivered whole, the unreadable one is reported.
        #expect(await standIn.waitForRecords(40, timeout: .seconds(30)), "\(agent.log())")
        #expect(
            try await eventually { !agent.logLines(containing: "cannot read file", "b.log").isEmpty }, "\(agent.log())")
        // Rescans pass (each proved by a new file it found and delivered): it is still reported only once, and
        // nothing of it was sent.
        for n in 1...3 {
            try dir.write("logs/later-\(n).log", readable.make(1))
            #expect(await standIn.waitForRecords(40 + n, timeout: .seconds(30)), "\(agent.log())")
        }
        #expect(agent.isRunning, "\(agent.log())")
        #expect(agent.logLines(containing: "cannot read file").count == 1, "\(agent.log())")
        #expect(Set(standIn.acceptedRecords().map(\.id)) == readable.ids)

        // Readable now: the next rescan opens it and all of it is delivered.
        #expect(chmod(lockedPath, 0o644) == 0)
        #expect(await standIn.waitForRecords(68, timeout: .seconds(30)), "\(agent.log())")
        let ids = standIn.acceptedRecords().map(\.id)
        #expect(Set(ids) == readable.ids.union(locked.ids))
        #expect(ids.count == Set(ids).count, "duplicates")
        #expect(agent.logLines(containing: "cannot read file").count == 1, "\(agent.log())")
        #expect(!agent.logLines(containing: "following file", "b.log").isEmpty, "\(agent.log())")
        #expect(agent.isRunning, "\(agent.log())")

        // It was still following: a graceful stop with everything delivered exits 0.
        agent.signal(SIGTERM)
        let status = try await agent.waitForExit(timeout: .seconds(30))
        #expect(status == 0, "\(agent.log())")
        try await standIn.shutdown()
    }

    @Test func catchUpWithAnUnreadableFileDeliversTheRestAndSaysItIsIncomplete() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        var readable = EventLines(prefix: "readable")
        var locked = EventLines(prefix: "locked")
        try dir.write("logs/a.log", readable.make(30))
        let lockedPath = try dir.write("logs/b.log", locked.make(20))
        #expect(chmod(lockedPath, 0) == 0)
        _ = try Harness.config(dir: dir, endpoint: standIn.endpoint, paths: ["logs/*.log"], extra: Self.follow)
        let prefix = try Self.withoutFileModeOverride()
        try #require(
            !(try Self.canRead(lockedPath, prefix: prefix)), "the test could not make \(lockedPath) unreadable")

        // The first run delivers what it can read, says which file it could not, and exits 4 (run again).
        let first = try AgentProcess(
            arguments: ["run", "--once", "--no-progress", "--config", dir.file("config.json")],
            logPath: dir.file("first.log"), prefix: prefix)
        defer { first.killIfRunning() }
        let firstStatus = try await first.waitForExit(timeout: .seconds(60))
        #expect(firstStatus == 4, "\(first.log())")
        #expect(!first.logLines(containing: "cannot read file", "b.log").isEmpty, "\(first.log())")
        #expect(Set(standIn.acceptedRecords().map(\.id)) == readable.ids)

        // Readable now: the next run sends only what is left and exits 0.
        #expect(chmod(lockedPath, 0o644) == 0)
        let second = try AgentProcess(
            arguments: ["run", "--once", "--no-progress", "--config", dir.file("config.json")],
            logPath: dir.file("second.log"), prefix: prefix)
        defer { second.killIfRunning() }
        let secondStatus = try await second.waitForExit(timeout: .seconds(60))
        #expect(secondStatus == 0, "\(second.log())")
        let ids = standIn.acceptedRecords().map(\.id)
        #expect(Set(ids) == readable.ids.union(locked.ids))
        #expect(ids.count == Set(ids).count, "duplicates")
        try await standIn.shutdown()
    }
}
