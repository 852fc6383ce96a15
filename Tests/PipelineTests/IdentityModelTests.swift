import Checkpoints
import Foundation
import Gzip
import Pipeline
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Model-based: random sequences of writes (short and long), logrotate's rotations (rename, copytruncate, copy),
/// compression and `kill -9` of the real binary, compared with what must arrive. The model is simple: every line
/// written is delivered; each line always under one event id (derived by default); and without crashes, exactly
/// once.
@Suite struct IdentityModelTests {
    enum Action: CaseIterable { case appendShort, appendLong, rename, copytruncate, copy, dropCopy, gzip, run }

    struct World {
        let dir: TemporaryDirectory
        var lines = EventLines(prefix: "m")
        var next = 1
        var rotated: [String] = []  // plain rotated files, oldest first (gzip candidates)
        var copies: [String] = []  // snapshots made with `copy`
        var log: [String] = []

        mutating func perform(_ action: Action, _ rng: inout SplitMix) throws {
            let live = dir.file("logs/app.log")
            let exists = FileManager.default.fileExists(atPath: live)
            switch action {
            case .appendShort:
                try append(Int(1 + rng.next() % 4))
            case .appendLong:
                try append(Int(10 + rng.next() % 30))
            case .rename where exists:
                let name = "logs/app.log.\(take())"
                try FileManager.default.moveItem(atPath: live, toPath: dir.file(name))
                rotated.append(name)
            case .copytruncate where exists:
                let name = "logs/app.log.\(take())"
                try FileManager.default.copyItem(atPath: live, toPath: dir.file(name))
                truncate(live, 0)
                rotated.append(name)
            case .copy where exists:
                let name = "logs/app.log.snap-\(take())"
                try FileManager.default.copyItem(atPath: live, toPath: dir.file(name))
                copies.append(name)
            case .dropCopy where !copies.isEmpty:
                try FileManager.default.removeItem(atPath: dir.file(copies.removeFirst()))
            case .gzip where !rotated.isEmpty:
                let name = rotated.removeFirst()
                let bytes = try Data(contentsOf: URL(fileURLWithPath: dir.file(name)))
                _ = try dir.write(name + ".gz", Gzip.compress(Array(bytes)))
                try FileManager.default.removeItem(atPath: dir.file(name))
            default:
                return
            }
            log.append("\(action)")
        }

        mutating func append(_ count: Int) throws {
            let text = lines.make(count)
            if FileManager.default.fileExists(atPath: dir.file("logs/app.log")) {
                try dir.append("logs/app.log", text)
            } else {
                _ = try dir.write("logs/app.log", text)
            }
        }

        mutating func take() -> Int {
            defer { next += 1 }
            return next
        }
    }

    func torture(seed: UInt64, steps: Int, kills: Bool) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        standIn.setFaults(Faults(responseDelayMillis: 2))
        _ = try IdentityTests.config(dir, standIn)
        try FileManager.default.createDirectory(atPath: dir.file("logs"), withIntermediateDirectories: true)
        var text = try dir.read("config.json")
        text = text.replacingOccurrences(
            of: #""state": {"directory": "state"}"#,
            with: #""state": {"directory": "state", "flushIntervalMillis": 50}"#)
        try dir.write("config.json", text)
        var world = World(dir: dir)
        var rng = SplitMix(seed: seed)
        var killed = 0
        try world.append(3)
        for _ in 0..<steps {
            let action = Action.allCases[Int(rng.next() % UInt64(Action.allCases.count))]
            if action == .run {
                let delay: Duration? = kills && rng.next() % 2 == 0 ? .milliseconds(Int64(30 + rng.next() % 300)) : nil
                if try await CrashTests.runChild(config: dir.file("config.json"), killAfter: delay) == nil {
                    killed += 1
                }
                world.log.append(delay == nil ? "run" : "run(kill)")
            } else {
                try world.perform(action, &rng)
            }
        }
        let status = try await CrashTests.runChild(config: dir.file("config.json"), killAfter: nil)
        #expect(status == 0, "final run: \(String(describing: status))")
        let history = world.log.joined(separator: " ")
        var idsByLine: [String: Set<String>] = [:]
        var deliveries: [String: Int] = [:]
        for r in standIn.acceptedRecords() {
            let line = r.itemId ?? "?"
            idsByLine[line, default: []].insert(r.eventId ?? "none")
            deliveries[line, default: 0] += 1
        }
        let missing = world.lines.ids.subtracting(idsByLine.keys)
        #expect(
            missing.isEmpty,
            "seed \(seed): \(missing.count) lines missing, e.g. \(missing.sorted().prefix(3)); \(history)")
        #expect(Set(idsByLine.keys).subtracting(world.lines.ids).isEmpty)
        let twoIds = idsByLine.filter { $0.value.count > 1 }
        #expect(
            twoIds.isEmpty,
            "seed \(seed): \(twoIds.count) lines under two ids, e.g. \(twoIds.keys.sorted().prefix(3)); \(history)")
        if killed == 0 {
            let repeated = deliveries.filter { $0.value > 1 }
            #expect(
                repeated.isEmpty,
                "seed \(seed): \(repeated.count) lines sent twice, e.g. \(repeated.keys.sorted().prefix(3)); \(history)"
            )
        }
        // Nothing more to send: a further run delivers nothing.
        let before = standIn.acceptedRecords().count
        _ = try await CrashTests.runChild(config: dir.file("config.json"), killAfter: nil)
        #expect(standIn.acceptedRecords().count == before, "seed \(seed): a clean re-run sent more; \(history)")
        try await standIn.shutdown()
    }

    @Test(
        .enabled(if: FileManager.default.isExecutableFile(atPath: AgentProcess.path)),
        arguments: [1, 2, 3, 4] as [UInt64])
    func rotationsWithoutCrashesDeliverEachLineOnce(seed: UInt64) async throws {
        try await torture(seed: seed, steps: 30, kills: false)
    }

    @Test(
        .enabled(if: FileManager.default.isExecutableFile(atPath: AgentProcess.path)),
        arguments: [11, 12, 13] as [UInt64])
    func crashesAndRotationsNeverGiveALineTwoIds(seed: UInt64) async throws {
        try await torture(seed: seed, steps: 30, kills: true)
    }
}
