import Checkpoints
import Foundation
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

/// `/metrics`, `/health`, the textfile and `status`: the format checked by a strict parser (and by the reference
/// Python parser when it is installed), the endpoints scraped during real runs against the stand-in.
@Suite struct MetricsTests {
    // MARK: Exposition format

    @Test func expositionIsStrictlyValidAndCompleteAtZero() throws {
        let text = PrometheusText.render(MetricsSnapshot())
        let parsed = try PromText.parse(text)
        for kind in DeadLetterKind.allCases {
            #expect(parsed["personalize_tail_records_dead_lettered_total{reason=\"\(kind.rawValue)\"}"] == 0)
        }
        #expect(parsed["personalize_tail_requests_total{operation=\"PutEvents\",outcome=\"accepted\"}"] == 0)
        #expect(parsed["personalize_tail_batch_size_bucket{le=\"+Inf\"}"] == 0)
        #expect(parsed["personalize_tail_ready"] == 0)
        #expect(parsed["personalize_tail_last_delivery_timestamp_seconds"] == nil)
        try PromText.checkWithPython(text)
    }

    @Test func expositionCarriesEveryNumberAndEscapesLabels() throws {
        var m = MetricsSnapshot()
        m.stats.linesRead = 120
        m.stats.recordsMapped = 100
        m.stats.recordsSent = 90
        m.stats.skipped = 7
        m.stats.deadLettered = ["malformed_json": 2, "rejected_by_service": 1]
        m.stats.retries = 4
        m.stats.throttles = 3
        m.stats.bytesRead = 65_536
        m.stats.filesOpened = 2
        m.stats.checkpointsForgotten = 5
        m.checkpointEntries = 12
        m.requestsByOutcome = ["PutEvents": ["accepted": 9, "throttled": 3], "PutItems": ["rejected": 1]]
        m.batchSizes = [0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 8]
        m.inFlightRequests = 2
        m.pendingRecords = 15
        let odd = "/var/log/we\"ird\\dir/new\nline.log"
        m.files = [
            .init(path: odd, source: "web", offset: 100, bytesRead: 150, size: 200, compressed: false),
            .init(
                path: "/var/log/a.log.1.gz", source: "web", offset: 9000, bytesRead: 300, size: 300, compressed: true),
        ]
        m.lastDeliveryTime = 1_763_900_000.25
        m.ready = true
        let text = PrometheusText.render(m)
        let parsed = try PromText.parse(text)
        let p = "personalize_tail_"
        #expect(parsed[p + "lines_read_total"] == 120)
        #expect(parsed[p + "records_mapped_total"] == 100)
        #expect(parsed[p + "records_sent_total"] == 90)
        #expect(parsed[p + "records_skipped_total"] == 7)
        #expect(parsed[p + "records_dead_lettered_total{reason=\"malformed_json\"}"] == 2)
        #expect(parsed[p + "records_dead_lettered_total{reason=\"rejected_by_service\"}"] == 1)
        #expect(parsed[p + "records_dead_lettered_total{reason=\"corrupt_gzip\"}"] == 0)
        #expect(parsed[p + "requests_total{operation=\"PutEvents\",outcome=\"accepted\"}"] == 9)
        #expect(parsed[p + "requests_total{operation=\"PutItems\",outcome=\"rejected\"}"] == 1)
        #expect(parsed[p + "requests_total{operation=\"PutUsers\",outcome=\"failed\"}"] == 0)
        #expect(parsed[p + "retries_total"] == 4)
        #expect(parsed[p + "throttles_total"] == 3)
        #expect(parsed[p + "bytes_read_total"] == 65_536)
        #expect(parsed[p + "files_opened_total"] == 2)
        #expect(parsed[p + "checkpoints_tracked"] == 12)
        #expect(parsed[p + "checkpoints_forgotten_total"] == 5)
        #expect(parsed[p + "batch_size_bucket{le=\"1\"}"] == 2)
        #expect(parsed[p + "batch_size_bucket{le=\"9\"}"] == 3)
        #expect(parsed[p + "batch_size_bucket{le=\"10\"}"] == 11)
        #expect(parsed[p + "batch_size_count"] == 11)
        #expect(parsed[p + "batch_size_sum"] == Double(2 * 1 + 9 + 8 * 10))
        #expect(parsed[p + "in_flight_requests"] == 2)
        #expect(parsed[p + "pending_records"] == 15)
        // The parser unescapes: the label value comes back exactly.
        #expect(parsed[p + "file_lag_bytes{path=\(PromText.quote(odd)),source=\"web\"}"] == 50)
        #expect(parsed[p + "file_offset_bytes{path=\(PromText.quote(odd)),source=\"web\"}"] == 100)
        #expect(parsed[p + "file_lag_bytes{path=\"/var/log/a.log.1.gz\",source=\"web\"}"] == 0)
        #expect(parsed[p + "last_delivery_timestamp_seconds"] == 1_763_900_000.25)
        #expect(parsed[p + "ready"] == 1)
        #expect(text.contains(#"path="/var/log/we\"ird\\dir/new\nline.log""#))
        try PromText.checkWithPython(text)
    }

    // MARK: Health

    @Test func healthStates() {
        var m = MetricsSnapshot()
        let now = 1_763_900_000.0
        #expect(HealthReport(m, now: now, unhealthyAfterSeconds: 60).reason == "not ready")
        m.ready = true
        let ok = HealthReport(m, now: now, unhealthyAfterSeconds: 60)
        #expect(ok.statusCode == 200 && ok.body.hasPrefix(#"{"status":"ok""#))
        m.failingSince = now - 30
        #expect(HealthReport(m, now: now, unhealthyAfterSeconds: 60).healthy)
        m.failingSince = now - 61
        let failing = HealthReport(m, now: now, unhealthyAfterSeconds: 60)
        #expect(failing.statusCode == 503)
        #expect(failing.reason?.hasPrefix("failing since 2025-11-23T") == true)
        m.fatal = "AccessDeniedException: not authorized"
        #expect(
            HealthReport(m, now: now, unhealthyAfterSeconds: 60).reason
                == "fatal: AccessDeniedException: not authorized")
        let body = try? JSONSerialization.jsonObject(with: Data(failing.body.utf8)) as? [String: Any]
        #expect(body?["status"] as? String == "unhealthy")
        #expect(body?["failingForSeconds"] as? Int == 61)
    }

    // MARK: Runs

    @Test func catchUpRunServesMetricsAndWritesTheTextfile() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        let log = MixedLog(count: 600, seed: 3)
        try log.write(to: dir)
        try FileManager.default.createDirectory(atPath: dir.file("textfiles"), withIntermediateDirectories: true)
        let config = try Harness.config(
            dir: dir, endpoint: standIn.endpoint,
            extra: #""metrics": {"listen": "127.0.0.1:0", "textfile": "textfiles/personalize_tail.prom"}"#)

        let report = try await Agent.run(
            config: config, options: RunOptions(once: true), environment: Harness.environment, logger: Harness.quiet)
        #expect(report.outcome == .completed)
        let port = try #require(report.metricsPort)
        #expect(port > 0)
        #expect(report.metrics.stats == report.stats)
        #expect(report.metrics.ready)
        #expect(report.metrics.stats.recordsSent == standIn.stats.acceptedRecords)

        let text = try dir.read("textfiles/personalize_tail.prom")
        let parsed = try PromText.parse(text)
        #expect(parsed["personalize_tail_records_sent_total"] == Double(standIn.stats.acceptedRecords))
        #expect(parsed["personalize_tail_lines_read_total"] == Double(report.stats.linesRead))
        #expect(
            parsed["personalize_tail_records_dead_lettered_total{reason=\"malformed_json\"}"]
                == Double(log.bad["malformed_json"] ?? 0))
        #expect(parsed["personalize_tail_batch_size_count"] == Double(standIn.stats.accepted))
        // Finished files are retired by the end of a catch-up run; whatever the final snapshot holds is in the file.
        for f in report.metrics.files {
            #expect(
                parsed["personalize_tail_file_lag_bytes{path=\(PromText.quote(f.path)),source=\"app\"}"]
                    == Double(f.lag))
        }
        try PromText.checkWithPython(text)
        let mode =
            try FileManager.default.attributesOfItem(atPath: dir.file("textfiles/personalize_tail.prom"))[
                .posixPermissions] as? Int
        #expect(mode == 0o644)
        #expect(!FileManager.default.fileExists(atPath: dir.file("textfiles/personalize_tail.prom.tmp")))
        // The endpoint closed with the run.
        #expect(HTTP.get(port: port, "/metrics") == nil)
        try await standIn.shutdown()
    }

    @Test func scrapesDuringAFollowRunMatchTheService() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        try dir.write("logs/app.log", Self.events(0..<25))
        var config = try Harness.config(dir: dir, endpoint: standIn.endpoint)
        config.metrics.listen = "127.0.0.1:0"
        config.batching.maxWaitMillis = 20
        config.follow.pollIntervalMillis = 50

        let control = AgentControl()
        let run = Task {
            try await Agent.run(
                config: config, options: RunOptions(once: false, control: control), environment: Harness.environment,
                logger: Harness.quiet)
        }
        let port = try #require(await Self.waitFor { control.metricsPort })
        #expect(await standIn.waitUntil { $0.acceptedRecords == 25 })
        let appended = Date().timeIntervalSince1970
        try dir.append("logs/app.log", Self.events(25..<60))
        #expect(await standIn.waitUntil { $0.acceptedRecords == 60 })

        // Published at most four times a second: the scrape catches up within a moment.
        let sent = await Self.waitFor { () -> Double? in
            let value = HTTP.get(port: port, "/metrics").flatMap { try? PromText.parse($0.body) }?[
                "personalize_tail_records_sent_total"]
            return value == 60 ? value : nil
        }
        #expect(sent == Double(standIn.stats.acceptedRecords))
        let scrape = try #require(HTTP.get(port: port, "/metrics"))
        #expect(scrape.status == 200)
        #expect(scrape.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
        let parsed = try PromText.parse(scrape.body)
        #expect(parsed["personalize_tail_lines_read_total"] == 60)
        #expect(parsed["personalize_tail_ready"] == 1)
        #expect(
            parsed["personalize_tail_requests_total{operation=\"PutEvents\",outcome=\"accepted\"}"]
                == Double(standIn.stats.accepted))
        #expect(
            parsed["personalize_tail_file_lag_bytes{path=\(PromText.quote(dir.file("logs/app.log"))),source=\"app\"}"]
                == 0)
        // The last delivery was of the appended lines: after they were written (its clock keeps milliseconds), and
        // not later than now.
        let lastDelivery = try #require(parsed["personalize_tail_last_delivery_timestamp_seconds"])
        #expect(lastDelivery >= appended - 0.001 && lastDelivery <= Date().timeIntervalSince1970, "\(lastDelivery)")
        try PromText.checkWithPython(scrape.body)

        let health = try #require(HTTP.get(port: port, "/health"))
        #expect(health.status == 200)
        #expect(health.body.hasPrefix(#"{"status":"ok""#))
        #expect(HTTP.get(port: port, "/nope")?.status == 404)
        #expect(HTTP.get(port: port, "/metrics", method: "POST")?.status == 405)

        control.requestStop()
        let report = try await run.value
        #expect(report.outcome == .completed)
        #expect(report.stats.recordsSent == 60)
        #expect(report.metrics.stopping)
        #expect(HTTP.get(port: port, "/health") == nil)
        try await standIn.shutdown()
    }

    @Test func healthTurnsUnhealthyWhileEveryRequestIsThrottled() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        standIn.setFaults(Faults(throttleFraction: 1))
        try dir.write("logs/app.log", Self.events(0..<3))
        var config = try Harness.config(dir: dir, endpoint: standIn.endpoint)
        config.metrics.listen = "127.0.0.1:0"
        config.metrics.unhealthyAfterSeconds = 0.2
        config.aws.maxAttempts = 2
        config.batching.maxWaitMillis = 20
        config.follow.pollIntervalMillis = 50

        let control = AgentControl()
        let run = Task {
            try await Agent.run(
                config: config, options: RunOptions(once: false, control: control), environment: Harness.environment,
                logger: Harness.quiet)
        }
        let port = try #require(await Self.waitFor { control.metricsPort })
        let unhealthy = await Self.waitFor { () -> HTTP.Response? in
            guard let r = HTTP.get(port: port, "/health"), r.status == 503 else { return nil }
            return r
        }
        let body = try #require(unhealthy?.body)
        #expect(body.contains(#""status":"unhealthy""#))
        #expect(body.contains(#""reason":"failing since "#))
        #expect(standIn.stats.throttled > 0 && standIn.stats.accepted == 0)
        // The three records use up their attempts while the service still throttles (however slow the machine).
        let exhausted = await Self.waitFor { () -> Int? in
            let n = control.metrics.snapshot.stats.deadLettered["retries_exhausted"] ?? 0
            return n >= 3 ? n : nil
        }
        #expect(exhausted == 3)

        // The service recovers: the next delivery makes the agent healthy again.
        standIn.setFaults(.none)
        try dir.append("logs/app.log", Self.events(3..<4))
        let healthy = await Self.waitFor { HTTP.get(port: port, "/health").flatMap { $0.status == 200 ? $0 : nil } }
        #expect(healthy != nil)

        control.requestStop()
        let report = try await run.value
        #expect(report.stats.deadLettered["retries_exhausted"] == 3)
        #expect(report.stats.recordsSent == 1)
        try await standIn.shutdown()
    }

    @Test func healthTurnsUnhealthyDuringAnOutageWhileRetriesGoOnForever() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        standIn.setFaults(Faults(unavailableFraction: 1))
        try dir.write("logs/app.log", Self.events(0..<3))
        var config = try Harness.config(dir: dir, endpoint: standIn.endpoint)
        config.metrics.listen = "127.0.0.1:0"
        config.metrics.unhealthyAfterSeconds = 0.5
        config.aws.maxAttempts = 0  // never give up: no batch finishes while the outage lasts
        config.batching.maxWaitMillis = 20
        config.follow.pollIntervalMillis = 50

        let control = AgentControl()
        let run = Task {
            try await Agent.run(
                config: config, options: RunOptions(once: false, control: control), environment: Harness.environment,
                logger: Harness.quiet)
        }
        let port = try #require(await Self.waitFor { control.metricsPort })
        let unhealthy = await Self.waitFor { () -> HTTP.Response? in
            guard let r = HTTP.get(port: port, "/health"), r.status == 503 else { return nil }
            return r
        }
        let body = try #require(unhealthy?.body, "unhealthy while every attempt fails, before any batch gives up")
        #expect(body.contains(#""reason":"failing since "#))
        #expect(standIn.stats.accepted == 0)

        // The service comes back: the retried batch gets through and the agent is healthy again.
        standIn.setFaults(.none)
        let healthy = await Self.waitFor { HTTP.get(port: port, "/health").flatMap { $0.status == 200 ? $0 : nil } }
        #expect(healthy != nil)
        control.requestStop()
        let report = try await run.value
        #expect(report.stats.recordsSent == 3)
        #expect(report.stats.deadLettered.isEmpty)
        try await standIn.shutdown()
    }

    @Test func aPortInUseIsAStartupErrorNamingTheKey() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        try dir.write("logs/app.log", Self.events(0..<1))
        var config = try Harness.config(dir: dir, endpoint: standIn.endpoint)
        config.metrics.listen = "127.0.0.1:\(standIn.port)"
        do {
            _ = try await Agent.run(
                config: config, options: RunOptions(once: true), environment: Harness.environment, logger: Harness.quiet
            )
            Issue.record("the run should not start")
        } catch let error as StartupError {
            #expect(error.status == .configuration)
            #expect(error.message.hasPrefix("metrics.listen: cannot listen on 127.0.0.1:\(standIn.port)"))
        }
        #expect(standIn.stats.requests == 0)
        try await standIn.shutdown()
    }

    // MARK: status

    @Test func statusReportFromARealStateDirectory() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        let log = MixedLog(count: 400, seed: 9)
        try log.write(to: dir)
        let config = try Harness.config(dir: dir, endpoint: standIn.endpoint)
        _ = try await Agent.run(
            config: config, options: RunOptions(once: true), environment: Harness.environment, logger: Harness.quiet)
        let appended = Self.events(0..<2)
        try dir.append("logs/app.log", appended)

        let report = try StatusReport.read(
            stateDirectory: config.state.directory, deadLetterPath: config.deadLetter.path)
        #expect(report.files.count == 2)
        let plain = try #require(report.files.first { $0.path == dir.file("logs/app.log") })
        let archive = try #require(report.files.first { $0.path == dir.file("logs/app.log.1.gz") })
        #expect(plain.behind == UInt64(appended.utf8.count))
        #expect(plain.behindText == String(appended.utf8.count))
        #expect(
            plain.size
                == UInt64(try FileManager.default.attributesOfItem(atPath: dir.file("logs/app.log"))[.size] as! Int))
        #expect(archive.compressed && archive.behindText == "done" && archive.behind == nil)
        #expect(report.deadLetter.exists)
        #expect(report.deadLetter.lines == log.deadLetterTotal)

        let table = report.table
        #expect(table.contains("PATH"))
        #expect(table.contains(dir.file("logs/app.log.1.gz")))
        #expect(table.contains("s ago)"))
        #expect(table.contains("dead letters: \(config.deadLetter.path) ("))
        #expect(table.contains("\(log.deadLetterTotal) lines"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])
        #expect((json["files"] as? [[String: Any]])?.count == 2)
        #expect((json["deadLetter"] as? [String: Any])?["lines"] as? Int == log.deadLetterTotal)

        // A moved plain file, a replaced one, a damaged archive.
        try FileManager.default.moveItem(atPath: dir.file("logs/app.log"), toPath: dir.file("logs/app.log.moved"))
        try dir.write("logs/other.log", "x\n")
        let store = DiskCheckpointStore(directory: config.state.directory)
        var checkpoints = try store.load()
        let other = try FileManager.default.attributesOfItem(atPath: dir.file("logs/other.log"))
        checkpoints.append(
            FileCheckpoint(
                fingerprint: "00", fingerprintLength: 1, device: 1, inode: 1, path: dir.file("logs/other.log"),
                offset: 0,
                size: 0, compressed: false, updatedAt: 1))
        checkpoints.append(
            FileCheckpoint(
                fingerprint: "01", fingerprintLength: 1, device: UInt64(other[.systemNumber] as! Int),
                inode: UInt64(other[.systemFileNumber] as! Int), path: dir.file("logs/broken.gz"), offset: 10, size: 50,
                compressed: true, finished: true, damagedAt: 42, updatedAt: 1))
        try store.save(checkpoints)
        let later = try StatusReport.read(
            stateDirectory: config.state.directory, deadLetterPath: config.deadLetter.path)
        #expect(later.files.first { $0.path == dir.file("logs/app.log") }?.behindText == "gone")
        #expect(later.files.first { $0.path == dir.file("logs/other.log") }?.behindText == "replaced")
        #expect(later.files.first { $0.path == dir.file("logs/broken.gz") }?.behindText == "damaged at 42")
        try await standIn.shutdown()
    }

    @Test func statusOfAnEmptyStateDirectory() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let report = try StatusReport.read(stateDirectory: dir.path, deadLetterPath: dir.file("dead-letter.jsonl"))
        #expect(report.files.isEmpty && !report.deadLetter.exists)
        #expect(report.table.contains("(0 files)"))
        #expect(report.table.contains("(none yet)"))
    }

    // MARK: Helpers

    static func events(_ range: Range<Int>) -> String {
        range.map {
            #"{"ts":\#(1_763_900_000_000 + $0),"kind":"event","id":"m-\#($0)","user":"u-1","session":"s-1","action":"view","item":"i-\#($0)","price":1.5}"#
                + "\n"
        }.joined()
    }

    /// Polls `body` every 20 ms until it returns a value, for up to `timeout` (a deadline for a stuck run).
    static func waitFor<T>(timeout: Duration = .seconds(60), _ body: () -> T?) async -> T? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if let value = body() { return value }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return body()
    }
}
