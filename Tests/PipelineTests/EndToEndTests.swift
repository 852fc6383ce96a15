import Checkpoints
import Engine
import Foundation
import Logging
import PersonalizeModel
import Pipeline
import Synchronization
import TestSupport
import Testing

/// Whole runs: real files (plain and gzip) through `run --once` into the local Personalize stand-in, which checks
/// every signature and validates every body against the service model.
@Suite struct EndToEndTests {
    @Test func catchUpDeliversEveryValidRecordOnceAndDeadLettersTheRest() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        let log = MixedLog(count: 10_000)
        try log.write(to: dir)
        let config = try Harness.config(dir: dir, endpoint: standIn.endpoint)

        let report = try await Agent.run(
            config: config, options: RunOptions(once: true), environment: Harness.environment, logger: Harness.quiet)
        #expect(report.outcome == .completed)
        #expect(report.exitStatus == .deadLettered)

        let records = standIn.acceptedRecords()
        let events = records.filter { $0.operation == .putEvents }.map(\.id)
        let items = records.filter { $0.operation == .putItems }.map(\.id)
        let users = records.filter { $0.operation == .putUsers }.map(\.id)
        #expect(events.count == log.eventIds.count)
        #expect(Set(events) == log.eventIds)
        #expect(Set(items) == log.itemIds && items.count == log.itemIds.count)
        #expect(Set(users) == log.userIds && users.count == log.userIds.count)
        #expect(standIn.stats.signatureFailures == 0)
        #expect(standIn.stats.rejected == 0)
        for request in standIn.acceptedRequests() where request.operation == .putEvents {
            #expect(request.records.count <= 10)
            #expect(Set(request.records.map { "\($0.userId ?? "")/\($0.sessionId ?? "")" }).count == 1)
        }

        let letters = try Harness.deadLetters(dir)
        var byKind: [String: Int] = [:]
        for letter in letters { byKind[letter["kind"] as! String, default: 0] += 1 }
        #expect(byKind == log.bad)
        for letter in letters {
            #expect((letter["path"] as? String)?.hasPrefix(dir.path) == true)
            #expect(letter["offset"] is NSNumber)
            #expect(!(letter["reason"] as? String ?? "").isEmpty)
        }
        #expect(report.stats.skipped == log.skipped)
        #expect(report.stats.recordsSent == log.eventIds.count + log.itemIds.count + log.userIds.count)
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.file("state/dead-letter.jsonl"))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        // A second run finds nothing new.
        let before = standIn.stats.accepted
        let again = try await Agent.run(
            config: config, options: RunOptions(once: true), environment: Harness.environment, logger: Harness.quiet)
        #expect(again.outcome == .completed)
        #expect(again.stats.recordsSent == 0 && again.stats.requests == 0 && again.stats.linesRead == 0)
        #expect(standIn.stats.accepted == before)
        #expect(try Harness.deadLetters(dir).count == letters.count)
        try await standIn.shutdown()
    }

    @Test func deadLetterOffsetsPointAtTheLine() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        try dir.write("logs/app.log", "{\"kind\":\"event\"\n\n{oops}\n")
        let config = try Harness.config(dir: dir, endpoint: standIn.endpoint)
        _ = try await Agent.run(
            config: config, options: RunOptions(once: true), environment: Harness.environment, logger: Harness.quiet)
        let letters = try Harness.deadLetters(dir)
        #expect(letters.map { $0["offset"] as! Int } == [0, 17])
        #expect(letters.map { $0["line"] as! String } == ["{\"kind\":\"event\"", "{oops}"])
        try await standIn.shutdown()
    }

    @Test func interruptedRunResumesWithNothingLost() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        let log = MixedLog(count: 4_000, seed: 7)
        try log.write(to: dir)
        let config = try Harness.config(dir: dir, endpoint: standIn.endpoint)

        // First run: after 40 acknowledged requests the "process dies": answers stop and the run is stopped.
        let client = try Agent.makeClient(config: config, environment: Harness.environment, logger: Harness.quiet)
        let sender = FlakySender(inner: ClientBatchSender(client: client), answerFirst: 40)
        try AtomicFile.makeDirectory(config.state.directory)
        let engine = try Engine(
            config: config, options: Engine.Options(once: true, maxConcurrentRequests: 4), sender: sender,
            store: DiskCheckpointStore(directory: config.state.directory),
            deadLetters: DeadLetterWriter(path: config.deadLetter.path), logger: Harness.quiet)
        sender.control.withLock { $0 = engine.control }
        let outcome = await engine.run()
        try await client.shutdown()
        #expect(outcome == .interrupted)
        let firstRun = Set(standIn.acceptedRecords().map(\.id))
        #expect(!firstRun.isEmpty)

        // Second run: delivers the rest.
        let report = try await Agent.run(
            config: config, options: RunOptions(once: true), environment: Harness.environment, logger: Harness.quiet)
        #expect(report.outcome == .completed)
        let all = standIn.acceptedRecords().map(\.id)
        let expected = log.eventIds.union(log.itemIds).union(log.userIds)
        let missing = expected.subtracting(all)
        let unexpected = Set(all).subtracting(expected)
        #expect(missing.isEmpty, "\(missing.count) missing, e.g. \(missing.sorted().prefix(5))")
        #expect(unexpected.isEmpty, "\(unexpected.count) unexpected, e.g. \(unexpected.sorted().prefix(5))")
        // Duplicates only for records acknowledged after the first unanswered one (at most what was pending).
        #expect(all.count - Set(all).count <= config.batching.maxPendingRecords)
        try await standIn.shutdown()
    }
}

/// Answers the first `answerFirst` batches through `inner`, then leaves every batch unanswered and asks the engine
/// to stop: what a crash looks like to the checkpoints.
final class FlakySender: BatchSender, Sendable {
    let inner: any BatchSender
    let answerFirst: Int
    let count = Mutex(0)
    let control = Mutex<EngineControl?>(nil)

    init(inner: any BatchSender, answerFirst: Int) {
        self.inner = inner
        self.answerFirst = answerFirst
    }

    func send(_ batch: Batch) async -> BatchResult {
        let n = count.withLock {
            $0 += 1
            return $0
        }
        if n <= answerFirst { return await inner.send(batch) }
        control.withLock { $0 }?.requestStop()
        return BatchResult(fates: Array(repeating: .unresolved, count: batch.records.count))
    }
}
