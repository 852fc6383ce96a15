import Checkpoints
import Foundation
import Logging
import PersonalizeClient
import Synchronization
import TestSupport
import Testing

@testable import Pipeline

/// What an operator sees while delivery fails, end to end against the stand-in with faults injected: the warnings,
/// `/health`, the counters of `/metrics`, the summary and the report; and how a catch-up run ends when nothing gets
/// through.
@Suite struct OutageTests {
    @Test func anOutageIsVisibleWhileItLasts() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        standIn.setFaults(Faults(unavailableFraction: 1))
        try dir.write("logs/app.log", MetricsTests.events(0..<3))
        var config = try Harness.config(dir: dir, endpoint: standIn.endpoint)
        config.metrics.listen = "127.0.0.1:0"
        config.metrics.unhealthyAfterSeconds = 0.5
        config.batching.maxWaitMillis = 20
        config.follow.pollIntervalMillis = 50
        config.follow.shutdownTimeoutSeconds = 0.5

        let log = LogRecorder()
        let control = AgentControl()
        let run = Task {
            try await Agent.run(
                config: config, options: RunOptions(once: false, control: control), environment: Harness.environment,
                logger: log.logger)
        }
        let port = try #require(await MetricsTests.waitFor { control.metricsPort })

        // A warning with the cause, the attempt and the next retry time, while the retries go on.
        let warning = try #require(
            await MetricsTests.waitFor(timeout: .seconds(20)) {
                log.entries.first { $0.message == "delivery failing; retrying" }
            },
            "\(log.entries)")
        #expect(warning.level == .warning)
        #expect(warning.metadata["http.status"] == "503")
        #expect(warning.metadata["error.code"] == "ServiceUnavailable")
        #expect(warning.metadata["operation"] == "PutEvents")
        #expect(Int(warning.metadata["attempt"] ?? "") ?? 0 >= 1)
        #expect(warning.metadata["retry.at"]?.contains("T") == true)

        // /health turns 503 with the cause after metrics.unhealthyAfterSeconds.
        let unhealthy = try #require(
            await MetricsTests.waitFor(timeout: .seconds(20)) {
                HTTP.get(port: port, "/health").flatMap { $0.status == 503 ? $0 : nil }
            })
        #expect(unhealthy.body.contains("failing since"), "\(unhealthy.body)")

        // The counters move per attempt, though no batch has finished.
        let scraped = try #require(
            await MetricsTests.waitFor(timeout: .seconds(20)) { () -> [String: Double]? in
                guard let text = HTTP.get(port: port, "/metrics")?.body, let parsed = try? PromText.parse(text),
                    (parsed["personalize_tail_retries_total"] ?? 0) >= 2
                else { return nil }
                return parsed
            })
        #expect((scraped["personalize_tail_requests_total{operation=\"PutEvents\",outcome=\"failed\"}"] ?? 0) >= 3)
        #expect((scraped["personalize_tail_request_attempts_total"] ?? 0) >= 3)
        #expect((scraped["personalize_tail_request_duration_seconds_count"] ?? 0) >= 3)
        #expect(scraped["personalize_tail_records_sent_total"] == 0)
        let snapshot = control.metrics.snapshot
        #expect(snapshot.failingSince != nil)
        #expect(snapshot.stats.lastError?.contains("ServiceUnavailable") == true, "\(snapshot.stats)")

        // Stopped during the outage: the summary counts the attempts, the unresolved records and the cause.
        control.requestStop()
        let report = try await run.value
        #expect(report.outcome == .interrupted)
        #expect(report.exitStatus == .incomplete)
        #expect(report.stats.requests >= 3)
        #expect(report.stats.retries >= 2)
        #expect(report.stats.unresolved == 3)
        #expect(report.stats.lastError?.contains("ServiceUnavailable (HTTP 503)") == true)
        #expect(report.stats.summaryLine.contains("unresolved=3"), "\(report.stats.summaryLine)")
        #expect(report.stats.summaryLine.contains("last_error=\"ServiceUnavailable"), "\(report.stats.summaryLine)")
        #expect(!report.stats.summaryLine.contains("requests=0"))
        try await standIn.shutdown()
    }

    @Test func aCatchUpWithNothingListeningStopsAfterTheStallTimeoutAndResumes() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        // A port nothing listens on: one the stand-in had, closed.
        let gone = try await PersonalizeStandIn.start()
        let deadEndpoint = gone.endpoint
        try await gone.shutdown()
        try dir.write("logs/app.log", MetricsTests.events(0..<3) + "{not json\n")
        var config = try Harness.config(dir: dir, endpoint: deadEndpoint)
        config.aws.catchUpStallTimeoutSeconds = 1
        config.aws.connectTimeoutSeconds = 1
        let log = LogRecorder()
        let report = try await Agent.run(
            config: config, options: RunOptions(once: true), environment: Harness.environment, logger: log.logger)
        #expect(report.outcome == .interrupted)
        #expect(report.exitStatus == .incomplete)
        #expect(report.stats.stopReason?.contains("no acknowledgement for 1s") == true, "\(report.stats)")
        #expect(report.stats.connectionErrors >= 1)
        #expect(report.stats.requests >= 1)
        #expect(report.stats.unresolved == 3)
        #expect(report.stats.lastError?.contains("connection error") == true, "\(report.stats)")
        #expect(log.entries.contains { $0.message.hasPrefix("catch-up stalled") && $0.level == .error })
        #expect(
            log.entries.contains {
                $0.message == "delivery failing; retrying" && $0.metadata["error.code"] == "connection_error"
            })
        // The bad line was dead-lettered and said so, with kind, file and offset.
        let dead = try #require(log.entries.first { $0.message == "dead-lettered a record" })
        #expect(dead.level == .warning)
        #expect(dead.metadata["kind"] == "malformed_json")
        #expect(dead.metadata["file.path"]?.hasSuffix("logs/app.log") == true)
        #expect(dead.metadata["file.offset"] == String(MetricsTests.events(0..<3).utf8.count))

        // Resumable: with the service back, the next run delivers the three records.
        let standIn = try await PersonalizeStandIn.start()
        let again = try Harness.config(dir: dir, endpoint: standIn.endpoint)
        let second = try await Agent.run(
            config: again, options: RunOptions(once: true), environment: Harness.environment, logger: Harness.quiet)
        #expect(second.stats.recordsSent == 3)
        #expect(standIn.stats.acceptedRecords == 3)
        try await standIn.shutdown()
    }

    @Test func aFollowRunThatDrainsCleanlyExitsZeroDespiteDeadLetters() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        try dir.write("logs/app.log", MetricsTests.events(0..<2) + "{broken\n")
        var config = try Harness.config(dir: dir, endpoint: standIn.endpoint)
        config.batching.maxWaitMillis = 20
        config.follow.pollIntervalMillis = 50
        let control = AgentControl()
        let run = Task {
            try await Agent.run(
                config: config, options: RunOptions(once: false, control: control), environment: Harness.environment,
                logger: Harness.quiet)
        }
        #expect(await standIn.waitForRecords(2))
        _ = await MetricsTests.waitFor { control.metrics.snapshot.stats.deadLetteredTotal == 1 ? true : nil }
        control.requestStop()
        let report = try await run.value
        #expect(report.outcome == .completed)
        #expect(report.stats.deadLetteredTotal == 1)
        #expect(report.exitStatus == .delivered)
        // The same in a catch-up run is status 3.
        var once = report
        once.follow = false
        #expect(once.exitStatus == .deadLettered)
        try await standIn.shutdown()
    }
}

/// Keeps what is logged, for tests that check warnings.
final class LogRecorder: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let store = Mutex<[Entry]>([])

    var entries: [Entry] { store.withLock { $0 } }

    var logger: Logger {
        Logger(label: "test") { _ in Handler(recorder: self) }
    }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var all: [String: String] = [:]
            for (k, v) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { all[k] = "\(v)" }
            let entry = Entry(level: event.level, message: "\(event.message)", metadata: all)
            recorder.store.withLock { $0.append(entry) }
        }
    }
}
