import AgentConfig
import Foundation
import Gzip
import PersonalizeModel
import Pipeline
import TestSupport
import Testing

/// Catch-up specifics: time windows, archive order, a duration cap, exit statuses.
@Suite struct CatchUpTests {
    static func event(_ id: String, _ ts: Int) -> String {
        #"{"ts":\#(ts),"kind":"event","id":"\#(id)","user":"u","session":"s","action":"view","item":"i"}"# + "\n"
    }

    @Test func sinceAndUntilSelectRecordsByTheirMappedTime() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        try dir.write(
            "logs/app.log",
            Self.event("old", 1_000) + Self.event("in", 2_000) + Self.event("new", 3_000)
                + #"{"kind":"item","sku":"item-1","cat":["a"]}"# + "\n")
        let config = try Harness.config(dir: dir, endpoint: standIn.endpoint)
        let report = try await Agent.run(
            config: config,
            options: RunOptions(
                once: true, since: Timestamp(epochSeconds: 2_000), until: Timestamp(epochSeconds: 3_000)),
            environment: Harness.environment, logger: Harness.quiet)
        #expect(report.exitStatus == .delivered)
        #expect(Set(standIn.acceptedRecords().map(\.id)) == ["in", "item-1"])  // items have no time: always sent
        #expect(report.stats.outsideTimeRange == 2)
        try await standIn.shutdown()
    }

    @Test func archivesAreSentOldestFirst() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        // Name order would be app.log, app.log.1.gz, app.log.2.gz; time order is .2, .1, then the live file.
        try dir.write("logs/app.log", Self.event("c", 3_000))
        try dir.write("logs/app.log.1.gz", Gzip.compress(Array(Self.event("b", 2_000).utf8)))
        try dir.write("logs/app.log.2.gz", Gzip.compress(Array(Self.event("a", 1_000).utf8)))
        _ = try Harness.config(dir: dir, endpoint: standIn.endpoint)
        var text = try dir.read("config.json")
        text = text.replacingOccurrences(of: #""maxConcurrentRequests": 8"#, with: #""maxConcurrentRequests": 1"#)
        try dir.write("config.json", text)
        let report = try await Agent.run(
            config: try AgentConfig.load(path: dir.file("config.json")), options: RunOptions(once: true),
            environment: Harness.environment, logger: Harness.quiet)
        #expect(report.exitStatus == .delivered)
        #expect(standIn.acceptedRecords().map(\.id) == ["a", "b", "c"])
        try await standIn.shutdown()
    }

    @Test func maxDurationStopsCleanlyAndTheNextRunFinishes() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        standIn.setFaults(Faults(responseDelayMillis: 20))
        var lines = ""
        for n in 0..<3_000 {
            lines += Self.event("e-\(n)", 1_000 + n).replacingOccurrences(of: #""user":"u""#, with: #""user":"u\#(n)""#)
        }
        try dir.write("logs/app.log", lines)
        // A small pending bound keeps reading behind sending, so the cap falls in the middle of the file.
        let config = try Harness.config(
            dir: dir, endpoint: standIn.endpoint, extra: #""batching": {"maxPendingRecords": 50}"#)
        let first = try await Agent.run(
            config: config, options: RunOptions(once: true, maxDurationSeconds: 0.3), environment: Harness.environment,
            logger: Harness.quiet)
        #expect(first.exitStatus == .incomplete)
        #expect(first.stats.recordsSent < 3_000)
        let second = try await Agent.run(
            config: config, options: RunOptions(once: true), environment: Harness.environment, logger: Harness.quiet)
        #expect(second.exitStatus == .delivered)
        let ids = standIn.acceptedRecords().map(\.id)
        #expect(Set(ids).count == 3_000)
        try await standIn.shutdown()
    }
}

/// The command line itself: `--report FILE` and the exit status a cron wrapper sees.
@Suite struct CatchUpCommandTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: AgentProcess.path)))
    func reportFileTellsTheTruth() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        try dir.write("logs/app.log", CatchUpTests.event("a", 1_000) + "{broken\n" + #"{"kind":"health"}"# + "\n")
        _ = try Harness.config(dir: dir, endpoint: standIn.endpoint)
        let run = try await AgentProcess.run([
            "run", "--once", "--config", dir.file("config.json"), "--report", dir.file("report.json"), "--log-level",
            "error",
        ])
        #expect(run.status == 3, "\(run.stderr)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.file("report.json"))))
                as? [String: Any])
        #expect(report["exitCode"] as? Int == 3)
        #expect(report["recordsSent"] as? Int == 1)
        #expect(report["skipped"] as? Int == 1)
        #expect(report["deadLettered"] as? Int == 1)
        #expect((report["deadLetteredByReason"] as? [String: Int]) == ["malformed_json": 1])
        #expect(report["linesRead"] as? Int == 3)
        #expect(report["requests"] as? Int == 1)
        try await standIn.shutdown()
    }
}
