import AgentConfig
import Checkpoints
import Engine
import Foundation
import Gzip
import Pipeline
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// logrotate `copytruncate` while lines the engine has not read yet are in the file: they are only in the copy once
/// the original is truncated, and must be sent once, in the same run, with the ids the original would have given
/// them. The engine runs in this process over real files, with a sender that holds requests until the test opens
/// it (which, with a small `maxPendingRecords`, keeps the engine from reading further meanwhile).
@Suite struct CopytruncateTests {
    /// Holds every batch until ``open()``, then acknowledges everything; keeps each line's event ids.
    final class GateSender: BatchSender {
        struct State {
            var open = false
            var held: [(Batch, @Sendable (BatchResult) -> Void)] = []
            var started = 0
            /// Line id (`"id"` of the line) -> event ids it was delivered with.
            var delivered: [String: [String]] = [:]
        }

        let state = Mutex(State())

        func send(_ batch: Batch) async -> BatchResult {
            BatchResult(fates: Array(repeating: .unresolved, count: batch.records.count))
        }

        func start(_ batch: Batch, tasks: TaskSpawner, completion: @escaping @Sendable (BatchResult) -> Void) {
            let now = state.withLock { s in
                s.started += batch.records.count
                if !s.open { s.held.append((batch, completion)) }
                return s.open
            }
            if now { completion(acknowledge(batch)) }
        }

        func open() {
            let held = state.withLock { s in
                s.open = true
                defer { s.held = [] }
                return s.held
            }
            for (batch, completion) in held { completion(acknowledge(batch)) }
        }

        private func acknowledge(_ batch: Batch) -> BatchResult {
            state.withLock { s in
                for record in batch.records {
                    let element = String(decoding: record.element, as: UTF8.self)
                    let eventId = element.range(of: #""eventId":""#).map { start in
                        String(element[start.upperBound...].prefix { $0 != "\"" })
                    }
                    s.delivered[DeliveryLog.id(of: record.line) ?? "?", default: []].append(eventId ?? "none")
                }
            }
            var result = BatchResult(fates: Array(repeating: .acknowledged, count: batch.records.count), requests: 1)
            result.accepted = 1
            return result
        }

        var snapshot: State { state.withLock { $0 } }
    }

    static func config(_ dir: TemporaryDirectory) throws -> AgentConfig {
        try FileManager.default.createDirectory(atPath: dir.file("logs"), withIntermediateDirectories: true)
        var config = try Harness.config(
            dir: dir, endpoint: "http://127.0.0.1:9", paths: [dir.file("logs/app.log*")],
            mappings: IdentityTests.derivedMappings)
        config.batching.maxPendingRecords = 40
        config.batching.maxWaitMillis = 5
        config.follow.pollIntervalMillis = 20
        config.follow.rescanIntervalMillis = 50
        return config
    }

    static func start(_ config: AgentConfig, _ sender: GateSender, once: Bool) throws -> (
        EngineControl, Task<Engine.Outcome, Never>
    ) {
        try AtomicFile.makeDirectory(config.state.directory)
        let engine = try Engine(
            config: config, options: Engine.Options(once: once, maxConcurrentRequests: 32), sender: sender,
            store: DiskCheckpointStore(directory: config.state.directory),
            deadLetters: DeadLetterWriter(path: config.deadLetter.path), logger: Harness.quiet)
        let control = engine.control
        return (control, Task { await engine.run() })
    }

    /// Polls `condition` until it holds or a deadline (for a stuck engine) passes.
    static func eventually(_ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition() {
            if ContinuousClock.now >= deadline { return false }
            try await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    enum Case: CaseIterable {
        /// The copy, then the truncate.
        case copy
        /// The same, then 60 new lines in the truncated file, past the offset the reader stopped at (a size check
        /// alone takes that for growth and reads the new content from the old offset).
        case refill
        /// logrotate's `compress` without `delaycompress`: the plain copy is gzipped at once, and only the `.gz`
        /// is ever matched.
        case gzippedCopy
    }

    /// 40 lines read and held in flight; 15 more written (not read: the engine waits for the 40); then the copy and
    /// the truncate (see ``Case``).
    @Test(arguments: Case.allCases)
    func linesOnlyInTheCopyAreSentOnceWithTheOriginalsIds(_ rotation: Case) async throws {
        let dir = try TemporaryDirectory(prefix: "copytruncate")
        defer { dir.remove() }
        let config = try Self.config(dir)
        var lines = EventLines()
        let first = lines.make(40)
        _ = try dir.write("logs/app.log", first)
        let sender = GateSender()
        let (control, task) = try Self.start(config, sender, once: false)
        #expect(try await Self.eventually { sender.snapshot.started == 40 }, "\(sender.snapshot.started) started")
        let unread = lines.make(15)
        try dir.append("logs/app.log", unread)
        let copied = try Data(contentsOf: URL(fileURLWithPath: dir.file("logs/app.log")))
        if rotation == .gzippedCopy {
            _ = try dir.write("logs/app.log.1.gz", Gzip.compress(Array(copied)))
        } else {
            _ = try dir.write("logs/app.log.1", Array(copied))
        }
        #expect(truncate(dir.file("logs/app.log"), 0) == 0)
        if rotation == .refill { try dir.append("logs/app.log", lines.make(60)) }
        sender.open()
        #expect(try await Self.eventually { Set(sender.snapshot.delivered.keys) == lines.ids })
        control.requestStop()
        #expect(await task.value == .completed)
        let delivered = sender.snapshot.delivered
        let missing = lines.ids.subtracting(delivered.keys)
        #expect(missing.isEmpty, "never sent: \(missing.sorted().prefix(5))")
        #expect(Set(delivered.keys).subtracting(lines.ids).isEmpty, "lines never written were sent")
        #expect(delivered.filter { $0.value.count > 1 }.isEmpty, "sent more than once")

        // The ids the original file would have given every line of its own: a catch-up run over that file alone.
        let reference = try TemporaryDirectory(prefix: "copytruncate-reference")
        defer { reference.remove() }
        _ = try reference.write("logs/app.log", first + unread)
        let referenceSender = GateSender()
        referenceSender.open()
        let (_, once) = try Self.start(try Self.config(reference), referenceSender, once: true)
        #expect(await once.value == .completed)
        let expected = referenceSender.snapshot.delivered
        #expect(expected.count == 55)
        for (id, eventIds) in expected {
            #expect(delivered[id] == eventIds, "\(id)")
        }
    }
}
