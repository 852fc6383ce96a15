import Checkpoints
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The real binary as an operator meets it: the report of a run that could not start, JSON logs and summary,
/// SIGHUP, the default config path, --version and "did you mean".
@Suite struct CommandLineTests {
    /// Runs the binary to its end in `dir`.
    static func run(
        _ arguments: [String], environment: [String: String] = Harness.environment, in dir: TemporaryDirectory
    )
        async throws -> ChildProcess.Output
    {
        try await AgentProcess.run(arguments, environment: environment, currentDirectory: dir.path)
    }

    static func report(_ dir: TemporaryDirectory) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(dir.read("report.json").utf8)) as! [String: Any]
    }

    @Test func theReportIsWrittenWhenTheRunCannotStart() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("report.json", #"{"outcome":"delivered","exitCode":0,"stale":true}"#)
        let missing = try await Self.run(
            ["run", "--once", "--config", dir.file("nope.json"), "--report", dir.file("report.json")], in: dir)
        #expect(missing.status == 2, "\(missing.stderr)")
        var report = try Self.report(dir)
        #expect(report["exitCode"] as? Int == 2)
        #expect(report["stale"] == nil)
        #expect((report["error"] as? String)?.contains("nope.json") == true)

        // Status 5: another holder of the state directory's lock.
        let standIn = try await PersonalizeStandIn.start()
        _ = try Harness.config(dir: dir, endpoint: standIn.endpoint)
        try FileManager.default.createDirectory(atPath: dir.file("state"), withIntermediateDirectories: true)
        let lock = try StateLock.acquire(directory: dir.file("state"), wait: false)
        let locked = try await Self.run(
            ["run", "--once", "--config", dir.file("config.json"), "--report", dir.file("report.json")], in: dir)
        withExtendedLifetime(lock) {}
        #expect(locked.status == 5, "\(locked.stderr)")
        report = try Self.report(dir)
        #expect(report["exitCode"] as? Int == 5)
        #expect(report["outcome"] as? String == "locked")
        try await standIn.shutdown()
    }

    @Test func jsonLogsAreTypedAndTheSummaryIsJSONToo() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("logs/app.log", MetricsTests.events(0..<3) + "{bad\n")
        _ = try Harness.config(dir: dir, endpoint: "http://127.0.0.1:9")
        let out = try await Self.run(
            ["run", "--once", "--dry-run", "--config", dir.file("config.json"), "--log-format", "json"], in: dir)
        #expect(out.status == 3, "\(out.stderr)")
        let lines = out.stderr.split(separator: "\n").map { line -> [String: Any] in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]) ?? ["unparsed": String(line)]
        }
        #expect(lines.allSatisfy { $0["unparsed"] == nil }, "\(out.stderr)")
        let starting = try #require(lines.first { $0["message"] as? String == "starting" })
        #expect(starting["sources"] as? Int == 1, "\(starting)")
        let summary = try #require(lines.first { $0["message"] as? String == "summary" }, "\(out.stderr)")
        #expect(summary["recordsSent"] as? Int == 3)
        #expect(summary["deadLettered"] as? Int == 1)
        #expect(summary["exitCode"] as? Int == 3)
    }

    @Test func sighupDrainsLikeSigterm() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        try dir.write("logs/app.log", MetricsTests.events(0..<5) + "{bad\n")
        _ = try Harness.config(
            dir: dir, endpoint: standIn.endpoint,
            extra: #""follow": {"pollIntervalMillis": 50}, "batching": {"maxWaitMillis": 20}"#)
        let agent = try AgentProcess(
            arguments: ["run", "--config", dir.file("config.json")], logPath: dir.file("agent.log"))
        defer { agent.killIfRunning() }
        #expect(await standIn.waitForRecords(5), "\(agent.log())")
        #expect(
            try await eventually { !agent.logLines(containing: "dead-lettered a record", "malformed_json").isEmpty },
            "\(agent.log())")
        agent.signal(SIGHUP)
        let status = try await agent.waitForExit(timeout: .seconds(30))
        // A clean drain in follow mode: 0, though a line was dead-lettered.
        #expect(status == 0, "\(agent.log())")
        let stopping = agent.logLines(containing: "stopping")
        #expect(stopping.count == 1 && stopping[0].contains("signal again to abandon"), "\(agent.log())")
        try await standIn.shutdown()
    }

    @Test func configPathDefaultsToTheEnvironmentAndVersionAndTypos() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("logs/app.log", "")
        _ = try Harness.config(dir: dir, endpoint: "http://127.0.0.1:9")
        var environment = Harness.environment
        environment["PERSONALIZE_TAIL_CONFIG"] = dir.file("config.json")
        let validate = try await Self.run(["validate"], environment: environment, in: dir)
        #expect(validate.status == 0, "\(validate.stderr)")
        #expect(validate.stdout.contains("\(dir.file("config.json")): valid"), "\(validate.stdout)")
        #expect(validate.stdout.contains("matches 1 file(s) now"), "\(validate.stdout)")

        let noConfig = try await Self.run(["validate"], in: dir)
        #expect(noConfig.status == 2)
        #expect(noConfig.stderr.contains("/etc/personalize-tail/config.json"), "\(noConfig.stderr)")

        let version = try await Self.run(["--version"], in: dir)
        #expect(version.status == 0)
        #expect(version.stdout.contains("commit "), "\(version.stdout)")
        #expect(version.stdout.contains("allocator "), "\(version.stdout)")
        #expect(version.stdout.contains("linux") || version.stdout.contains("apple"), "\(version.stdout)")

        let typo = try await Self.run(["runn", "--once"], in: dir)
        #expect(typo.status == 64)
        #expect(typo.stderr.contains("did you mean 'run'?"), "\(typo.stderr)")
        let usage = try await Self.run(["run", "--no-such-flag"], in: dir)
        #expect(usage.status == 64)
    }
}
