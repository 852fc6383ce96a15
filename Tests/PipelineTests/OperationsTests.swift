import Foundation
import JSON
import Logging
import TestSupport
import Testing

@testable import AgentConfig
@testable import Engine
@testable import Metrics
@testable import Pipeline

#if canImport(Glibc)
    import Glibc
#endif

/// The operator's side of the configuration and the metrics: interpolation, defaults, source and region checks,
/// rate-limited logs, build and process metrics, bounded series.
@Suite struct OperationsTests {
    static func write(_ dir: TemporaryDirectory, aws: String = #""region": "us-east-1""#, extra: String = "") throws
        -> String
    {
        try dir.write(
            "config.json",
            """
            {"aws": {\(aws)}, "state": {"directory": "state"}, "sources": [{"name": "web", "paths": ["logs/*.log"]}],
             "mappings": {"m": {"target": "event", "trackingId": "${TRACKING_ID:-t-default}", "fields": {"userId": "u", "eventType": "type", "sentAt": "ts", "sessionId": "s"}}}\(extra)}
            """)
    }

    @Test func interpolatesVariablesWithDefaultsAndEscapes() throws {
        #expect(try ConfigInterpolation.interpolate("a-${X}-b", environment: ["X": "1"]) == "a-1-b")
        #expect(try ConfigInterpolation.interpolate("${X:-d}", environment: [:]) == "d")
        #expect(try ConfigInterpolation.interpolate("${X:-d}", environment: ["X": ""]) == "d")
        #expect(try ConfigInterpolation.interpolate("$${X} and ^a$", environment: [:]) == "${X} and ^a$")
        #expect(throws: (any Error).self) { try ConfigInterpolation.interpolate("${1X}", environment: [:]) }
        #expect(throws: (any Error).self) { try ConfigInterpolation.interpolate("${X", environment: ["X": "1"]) }

        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write(
            "config.json",
            #"{"aws": {"region": "${REGION}"}, "state": {"directory": "${NODE:-n1}/state"}, "sources": [{"name": "web", "paths": ["logs/*.log"]}], "mappings": {}}"#
        )
        do {
            _ = try AgentConfig.load(path: dir.file("config.json"), environment: [:])
            Issue.record("an unset variable without a default was accepted")
        } catch {
            #expect("\(error)".contains("aws.region"), "\(error)")
            #expect("\(error)".contains("REGION is not set"), "\(error)")
        }
        let config = try? AgentConfig.load(path: dir.file("config.json"), environment: ["REGION": "eu-west-1"])
        #expect(config?.aws.region == "eu-west-1" || config == nil)  // mappings {} may be an error of its own
    }

    @Test func stateDirectoryFromSystemd() {
        #expect(
            AgentConfig.defaultStateDirectory(environment: ["STATE_DIRECTORY": "/var/lib/pt:/var/lib/other"])
                == "/var/lib/pt")
    }

    @Test func regionMustLookLikeOne() throws {
        #expect(RegionCheck.problem("us-east-1") == nil)
        #expect(RegionCheck.problem("us-gov-west-1") == nil)
        #expect(RegionCheck.problem("cn-northwest-1") == nil)
        #expect(RegionCheck.problem(nil) == nil)
        let problem = try #require(RegionCheck.problem("us-east1"))
        #expect(problem.contains(#"did you mean "us-east-1"?"#), "\(problem)")
        #expect(RegionCheck.problem("US_EAST_1")?.contains(#""us-east-1""#) == true)
        #expect(RegionCheck.problem("virginia") != nil)

        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try Self.write(dir, aws: #""region": "us-east1""#)
        do {
            _ = try AgentConfig.load(path: dir.file("config.json"), environment: [:])
            Issue.record("us-east1 was accepted")
        } catch {
            #expect("\(error)".contains("aws.region"), "\(error)")
            #expect("\(error)".contains("did you mean"), "\(error)")
        }
    }

    @Test func sourcesThatMatchNothingAreExplained() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("logs/a.log", "{}\n")
        let source = SourceConfig(
            name: "web", paths: [dir.file("logs/*.log"), dir.file("missing/*.log"), dir.file("logs/*.txt")],
            exclude: [], format: .auto, maxLineBytes: 1000)
        let check = SourceCheck.check(source, index: 0)
        #expect(check.files == [dir.file("logs/a.log")])
        #expect(check.problems.count == 2, "\(check.problems)")
        #expect(check.problems[0].hasPrefix("sources[0].paths[1]") && check.problems[0].contains("does not exist"))
        #expect(check.problems[1].hasPrefix("sources[0].paths[2]") && check.problems[1].contains("matches no file now"))

        // A directory the agent cannot read (only meaningful without root's override).
        try dir.write("locked/b.log", "{}\n")
        chmod(dir.file("locked"), 0o000)
        defer { chmod(dir.file("locked"), 0o755) }
        let locked = SourceCheck.check(
            SourceConfig(name: "l", paths: [dir.file("locked/*.log")], exclude: [], format: .auto, maxLineBytes: 1000),
            index: 1)
        if getuid() != 0 {
            #expect(locked.files.isEmpty)
            #expect(locked.problems.first?.contains("cannot be read by uid") == true, "\(locked.problems)")
        } else {
            #expect(locked.files == [dir.file("locked/b.log")])
        }
    }

    @Test func logRateLimiterLetsABurstThroughAndCountsTheRest() {
        var limiter = LogRateLimiter(burst: 2, windowMillis: 1000)
        #expect(limiter.admit(now: 0) == 0)
        #expect(limiter.admit(now: 1) == 0)
        #expect(limiter.admit(now: 2) == nil)
        #expect(limiter.admit(now: 3) == nil)
        #expect(limiter.admit(now: 1000) == 2)
        #expect(limiter.admit(now: 1001) == 0)
    }

    @Test func metricsCarryBuildProcessAndLatencyAndBoundTheFileSeries() throws {
        var m = MetricsSnapshot()
        m.latency = ([1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 40.5)
        for i in 0..<(PrometheusText.maxFileSeries + 50) {
            m.files.append(
                .init(
                    path: "/var/log/app.log.\(i)", source: "web", offset: 0, bytesRead: 0, size: UInt64(i),
                    compressed: false))
        }
        let text = PrometheusText.render(m)
        let parsed = try PromText.parse(text)
        #expect(
            parsed["personalize_tail_build_info{version=\"\(BuildInfo.version)\",commit=\"\(BuildInfo.commit)\"}"] == 1)
        #expect((parsed["process_resident_memory_bytes"] ?? 0) > 0)
        #expect(parsed["process_cpu_seconds_total"] != nil)
        #expect((parsed["process_open_fds"] ?? 0) > 0)
        #expect((parsed["process_start_time_seconds"] ?? 0) > 1_600_000_000)
        #expect(parsed["personalize_tail_request_duration_seconds_bucket{le=\"0.005\"}"] == 1)
        #expect(parsed["personalize_tail_request_duration_seconds_bucket{le=\"0.025\"}"] == 3)
        #expect(parsed["personalize_tail_request_duration_seconds_bucket{le=\"+Inf\"}"] == 4)
        #expect(parsed["personalize_tail_request_duration_seconds_sum"] == 40.5)
        let fileSeries = parsed.keys.filter { $0.hasPrefix("personalize_tail_file_lag_bytes{") }
        #expect(fileSeries.count == PrometheusText.maxFileSeries)
        #expect(parsed["personalize_tail_files_tracked"] == Double(PrometheusText.maxFileSeries + 50))
        let total = (0..<(PrometheusText.maxFileSeries + 50)).reduce(0, +)
        #expect(parsed["personalize_tail_source_lag_bytes{source=\"web\"}"] == Double(total))
        try PromText.checkWithPython(text)
    }

    @Test func statusShowsSizesReadablyTheAgentPidAndGzipOffsetsApart() throws {
        #expect(StatusReport.size(512) == "512 B")
        #expect(StatusReport.size(1536) == "1.5 KiB")
        #expect(StatusReport.size(5 << 20) == "5.0 MiB")
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("state/lock", "\(getpid())\n")
        #expect(StatusReport.runningAgent(stateDirectory: dir.file("state")) == getpid())
        try dir.write("state/lock", "2147483646\n")
        #expect(StatusReport.runningAgent(stateDirectory: dir.file("state")) == nil)

        let report = StatusReport(
            checkpointsPath: "c.json",
            files: [
                .init(
                    path: "/l/app.log", offset: 1024, size: 3 << 20, compressed: false, behind: (3 << 20) - 1024,
                    behindText: "x", updatedAt: 0),
                .init(
                    path: "/l/app.log.1.gz", offset: 9 << 20, size: 1 << 20, compressed: true, behind: nil,
                    behindText: "partial", updatedAt: 0),
            ],
            deadLetter: .init(path: "d.jsonl", exists: false, size: 0, lines: 0), now: 0, agentPid: 42)
        let table = report.table
        let gz = try #require(table.split(separator: "\n").first { $0.contains("app.log.1.gz") })
        #expect(gz.contains("1.0 MiB"), "\(gz)")
        #expect(gz.contains("partial, 9.0 MiB decompressed read"), "\(gz)")
        #expect(!gz.contains("9437184"), "\(gz)")
        #expect(table.contains("3.0 MiB"))
        #expect(table.contains("agent: running (pid 42)"))
        #expect(report.json.contains("\"agentPid\":42"))
    }
}
