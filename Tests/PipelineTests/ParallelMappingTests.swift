import Engine
import Foundation
import Logging
import Mapping
import PersonalizeModel
import Pipeline
import Synchronization
import TestSupport
import Testing

/// Mapping half of each large chunk on a second thread changes nothing a run does: the same requests in the same
/// order, the same dead letters at the same offsets, the same counts.
@Suite struct ParallelMappingTests {
    final class Capture: BatchSender, Sendable {
        let lines = Mutex<[String]>([])
        func send(_ batch: Batch) async -> BatchResult {
            let body = RequestBody(key: batch.key, pending: batch.records)
            let offsets = batch.records.map { "\($0.offset)" }.joined(separator: ",")
            lines.withLock {
                $0.append("\(body.operation.rawValue) [\(offsets)] " + String(decoding: body.body, as: UTF8.self))
            }
            var result = BatchResult(fates: Array(repeating: .acknowledged, count: batch.records.count), requests: 1)
            result.accepted = 1
            return result
        }
    }

    struct Run {
        var requests: [String]
        var deadLetters: [String]
        var stats: RunStats
        var parallel: Bool
    }

    /// Derived event ids hash each line's offset, so a worker that mapped a line with another line's context would
    /// show in the bodies.
    static let mappings = MixedLog.mappings.replacingOccurrences(
        of: #""eventId": "id""#, with: #""eventId": {"derive": true}, "recommendationId": "id""#)

    func run(_ log: MixedLog, parallel: Bool) async throws -> Run {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try log.write(to: dir)
        let config = try Harness.config(dir: dir, endpoint: "http://127.0.0.1:9", mappings: Self.mappings)
        var options = Engine.Options(once: true, maxConcurrentRequests: 1)
        options.parallelMapping = parallel
        let capture = Capture()
        try FileManager.default.createDirectory(atPath: dir.file("state"), withIntermediateDirectories: true)
        let letters = DeadLetterWriter(path: dir.file("state/dead-letter.jsonl"))
        let engine = try Engine(
            config: config, options: options, sender: capture, store: nil, deadLetters: letters, logger: Harness.quiet)
        let outcome = await engine.run()
        #expect(outcome == .completed)
        try letters.sync()
        let deadLetters = try Harness.deadLetters(dir).map { letter in
            let path = (letter["path"] as! String).replacingOccurrences(of: dir.path, with: "")
            return "\(letter["kind"]!) \(path) \(letter["offset"]!) \(letter["reason"]!)"
        }
        return Run(
            requests: capture.lines.withLock { $0 }, deadLetters: deadLetters, stats: engine.statistics,
            parallel: engine.mapsInParallel)
    }

    @Test func sameRequestsAndDeadLettersWithAndWithoutTheWorker() async throws {
        // Plain and gzip halves; lines of every kind, so chunks mix records, failures, blanks and over-long lines.
        let log = MixedLog(count: 6_000, seed: 11)
        let alone = try await run(log, parallel: false)
        let split = try await run(log, parallel: true)
        #expect(!alone.parallel)
        #expect(split.parallel)
        #expect(alone.requests.count > 300)
        // Compared line by line so that a failure shows the first request that differs, not all of them.
        #expect(split.requests.count == alone.requests.count)
        let request = zip(split.requests, alone.requests).first { $0.0 != $0.1 }
        #expect(request == nil, "first differing request: \(request.map { "\($0.0)\n  vs \($0.1)" } ?? "")")
        #expect(split.deadLetters == alone.deadLetters)
        #expect(split.deadLetters.count == log.deadLetterTotal)
        #expect(split.stats.linesRead == alone.stats.linesRead && split.stats.linesRead == log.lines.count)
        #expect(split.stats.recordsSent == alone.stats.recordsSent)
        #expect(split.stats.skipped == alone.stats.skipped && split.stats.skipped == log.skipped)
        #expect(split.stats.emptyLines == alone.stats.emptyLines)
        #expect(split.stats.deadLettered == alone.stats.deadLettered)
    }

    @Test func sessionizingMappingsAreMappedInOrderOnOneThread() async throws {
        let sessionizing = MixedLog.mappings.replacingOccurrences(
            of: #""sessionId": "session","#, with: #""sessionId": {"path": "session", "fallback": "session"},"#)
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = try Harness.config(dir: dir, endpoint: "http://127.0.0.1:9", mappings: sessionizing)
        #expect(config.mappings.sessionizes)
        var options = Engine.Options(once: true)
        options.parallelMapping = true
        let engine = try Engine(
            config: config, options: options, sender: Capture(), store: nil, deadLetters: nil, logger: Harness.quiet)
        #expect(!engine.mapsInParallel)
        let plain = try Harness.config(dir: dir, endpoint: "http://127.0.0.1:9")
        #expect(!plain.mappings.sessionizes)
    }
}
