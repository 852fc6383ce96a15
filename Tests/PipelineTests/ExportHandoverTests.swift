import Checkpoints
import ExportHandover
import Foundation
import Gzip
import Pipeline
import Tailing  // via Pipeline; for the fingerprints an export records
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `checkpoint --from-export`: the live agent starts where a bulk export ended.
@Suite struct ExportHandoverTests {
    /// What the export records for a file it read up to `endOffset` (decompressed).
    static func exported(_ path: String, endOffset: UInt64) throws -> ExportHandover.Input {
        let fingerprint = try #require(try Fingerprint.of(path: path))
        let stat = try #require(FileStat.of(path: path))
        return ExportHandover.Input(
            path: path, compressed: path.hasSuffix(".gz"), fingerprint: fingerprint.hash,
            fingerprintLength: fingerprint.length, device: stat.device, inode: stat.inode, endOffset: endOffset)
    }

    static func event(_ id: String) -> String {
        #"{"ts":1763900000000,"kind":"event","id":"\#(id)","user":"u-1","session":"s-1","action":"view","item":"i-1","price":1}"#
    }

    /// Two logs as an export leaves them: a rotated gzip read to its end and a live plain file read up to an
    /// unterminated last line.
    static func history(_ dir: TemporaryDirectory) throws -> (
        inputs: [ExportHandover.Input], old: MixedLog, partial: String
    ) {
        let old = MixedLog(count: 400)
        let archive = old.bytes(0..<200)
        try dir.write("logs/app.log.1.gz", Gzip.compress(archive))
        let plain = old.bytes(200..<400)
        let partial = event("tail-1")
        try dir.write("logs/app.log", plain + Array(partial.prefix(30).utf8))
        return (
            [
                try exported(dir.file("logs/app.log.1.gz"), endOffset: UInt64(archive.count)),
                try exported(dir.file("logs/app.log"), endOffset: UInt64(plain.count)),
            ], old, partial
        )
    }

    @Test func catchUpAfterTheHandOverSendsOnlyWhatCameAfterTheExport() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        let (inputs, _, partial) = try Self.history(dir)
        let config = try Harness.config(dir: dir, endpoint: standIn.endpoint)

        let report = try ExportHandover.run(
            inputs: inputs, until: nil, stateDirectory: config.state.directory, force: false)
        #expect(report.handedOver.count == 2)
        #expect(report.bytes == inputs[0].endOffset + inputs[1].endOffset)
        #expect(report.skipped.isEmpty && report.replaced.isEmpty && report.warnings.isEmpty)
        let saved = try DiskCheckpointStore(directory: config.state.directory).load()
        #expect(saved.count == 2)
        let gz = try #require(saved.first { $0.compressed })
        #expect(gz.finished && gz.offset == inputs[0].endOffset)
        #expect(gz.size == FileStat.of(path: dir.file("logs/app.log.1.gz"))?.size)
        let live = try #require(saved.first { !$0.compressed })
        #expect(!live.finished && live.offset == inputs[1].endOffset && live.path == dir.file("logs/app.log"))

        // After the export: the half line ends, and new lines come.
        let new = MixedLog(count: 120, seed: 7, prefix: "new-")
        try dir.append(
            "logs/app.log", String(partial.dropFirst(30)) + "\n" + String(decoding: new.bytes(0..<120), as: UTF8.self))
        let run = try await Agent.run(
            config: config, options: RunOptions(once: true), environment: Harness.environment, logger: Harness.quiet)
        #expect(run.outcome == .completed)

        let records = standIn.acceptedRecords()
        let events = records.filter { $0.operation == .putEvents }.map(\.id)
        #expect(events.count == new.eventIds.count + 1)
        #expect(Set(events) == new.eventIds.union(["tail-1"]))
        #expect(Set(records.filter { $0.operation == .putItems }.map(\.id)) == new.itemIds)
        #expect(Set(records.filter { $0.operation == .putUsers }.map(\.id)) == new.userIds)
        #expect(try Harness.deadLetters(dir).count == new.deadLetterTotal)
        try await standIn.shutdown()
    }

    @Test func untilExportsAreRefusedUnlessForced() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (inputs, _, _) = try Self.history(dir)
        let state = dir.file("state")
        #expect {
            _ = try ExportHandover.run(
                inputs: inputs, until: "2026-01-01T00:00:00Z", stateDirectory: state, force: false)
        } throws: { error in
            guard let failure = error as? ExportHandover.Failure else { return false }
            return failure.status == .configuration && failure.message.contains("--until 2026-01-01T00:00:00Z")
                && failure.message.contains("--force")
        }
        #expect(try DiskCheckpointStore(directory: state).load().isEmpty)

        let forced = try ExportHandover.run(
            inputs: inputs, until: "2026-01-01T00:00:00Z", stateDirectory: state, force: true)
        #expect(forced.handedOver.count == 2)
        #expect(forced.warnings.contains { $0.contains("--until") })
        #expect(try DiskCheckpointStore(directory: state).load().count == 2)
    }

    @Test func existingCheckpointsAreListedAndKeptUnlessForced() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (inputs, _, _) = try Self.history(dir)
        let state = dir.file("state")
        let store = DiskCheckpointStore(directory: state)
        let other = FileCheckpoint(
            fingerprint: "00", fingerprintLength: 1, device: 1, inode: 1, path: "/elsewhere/other.log", offset: 7,
            size: 7,
            compressed: false, updatedAt: 1)
        var earlier = try #require(
            try ExportHandover.run(inputs: inputs, until: nil, stateDirectory: state, force: false)
                .handedOver.first { !$0.compressed })
        earlier.offset = 10
        earlier.updatedAt = 1
        let gz = try store.load().first { $0.compressed }!
        try store.save([other, earlier, gz])

        // The same hand-over again: the gzip checkpoint is already there, the plain one is elsewhere.
        #expect {
            _ = try ExportHandover.run(inputs: inputs, until: nil, stateDirectory: state, force: false)
        } throws: { error in
            guard let failure = error as? ExportHandover.Failure else { return false }
            return failure.status == .configuration && failure.message.contains("1 checkpoint(s) already exist")
                && failure.message.contains("\(dir.file("logs/app.log")): checkpoint at offset 10")
                && !failure.message.contains("app.log.1.gz")
        }
        #expect(try store.load() == [other, earlier, gz])

        let forced = try ExportHandover.run(inputs: inputs, until: nil, stateDirectory: state, force: true)
        #expect(forced.replaced == [earlier])
        #expect(forced.unchanged == [dir.file("logs/app.log.1.gz")])
        #expect(forced.handedOver.map(\.offset) == [inputs[1].endOffset])
        let after = try store.load()
        #expect(after.count == 3 && after.contains(other) && after.contains(gz))
        #expect(after.first { !$0.compressed && $0.device != 1 }?.offset == inputs[1].endOffset)

        // Repeating an identical hand-over changes nothing and is not an error.
        let again = try ExportHandover.run(inputs: inputs, until: nil, stateDirectory: state, force: false)
        #expect(again.handedOver.isEmpty && again.unchanged.count == 2)
        #expect(try store.load() == after)
    }

    @Test func aRunningAgentsLockIsNotTaken() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (inputs, _, _) = try Self.history(dir)
        let state = dir.file("state")
        try AtomicFile.makeDirectory(state)
        let lock = try StateLock.acquire(directory: state, wait: false)
        #expect {
            _ = try ExportHandover.run(inputs: inputs, until: nil, stateDirectory: state, force: true)
        } throws: { error in
            guard let failure = error as? ExportHandover.Failure else { return false }
            return failure.status == .locked && failure.message.contains("pid \(getpid())")
        }
        withExtendedLifetime(lock) {}
        #expect(!FileManager.default.fileExists(atPath: state + "/" + DiskCheckpointStore.fileName))
    }

    @Test func filesThatChangedFailTheHandOverOrAreSkippedWithForce() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var (inputs, _, _) = try Self.history(dir)
        let state = dir.file("state")
        // Rewritten in place (same inode, other first bytes), and one that is gone.
        try dir.write("other.log", Self.event("o-1") + "\n")
        let rewritten = try Self.exported(dir.file("other.log"), endOffset: 10)
        let fd = open(dir.file("other.log"), O_WRONLY)
        _ = pwrite(fd, "X", 1, 0)
        close(fd)
        inputs.append(rewritten)
        inputs.append(
            ExportHandover.Input(
                path: dir.file("gone.log"), compressed: false, fingerprint: "ab", fingerprintLength: 3, device: 1,
                inode: 2,
                endOffset: 3))
        #expect {
            _ = try ExportHandover.run(inputs: inputs, until: nil, stateDirectory: state, force: false)
        } throws: { error in
            guard let failure = error as? ExportHandover.Failure else { return false }
            return failure.status == .configuration && failure.message.contains("2 file(s) no longer match")
                && failure.message.contains("other.log: its first bytes differ")
                && failure.message.contains("gone.log: no longer exists")
        }
        #expect(try DiskCheckpointStore(directory: state).load().isEmpty)

        let forced = try ExportHandover.run(inputs: inputs, until: nil, stateDirectory: state, force: true)
        #expect(forced.handedOver.count == 2)
        #expect(Set(forced.skipped.map(\.path)) == [dir.file("other.log"), dir.file("gone.log")])
        #expect(try DiskCheckpointStore(directory: state).load().count == 2)
    }

    @Test func aFileRenamedSinceTheExportIsHandedOverUnderItsNewName() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (inputs, _, _) = try Self.history(dir)
        let state = dir.file("state")
        #expect(rename(dir.file("logs/app.log"), dir.file("logs/app.log.0")) == 0)
        try dir.write("logs/app.log", Self.event("fresh") + "\n")
        let report = try ExportHandover.run(inputs: inputs, until: nil, stateDirectory: state, force: false)
        #expect(report.handedOver.map(\.path).sorted() == [dir.file("logs/app.log.0"), dir.file("logs/app.log.1.gz")])
        #expect(report.warnings.contains { $0.contains("renamed to \(dir.file("logs/app.log.0"))") })
    }

    @Test func filesNothingWasExportedFromAreLeftToTheAgent() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let empty = ExportHandover.Input(
            path: dir.file("logs/empty.log"), compressed: false, fingerprint: nil, fingerprintLength: nil, device: 0,
            inode: 0, endOffset: 0)
        let report = try ExportHandover.run(
            inputs: [empty], until: nil, stateDirectory: dir.file("state"), force: false)
        #expect(report.leftToAgent == [dir.file("logs/empty.log")])
        #expect(report.handedOver.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir.file("state/checkpoints.json")))
    }

    @Test func aGzipThatDoesNotEndAtTheExportsOffsetIsNotMarkedFinished() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let bytes = Array((Self.event("g-1") + "\n" + Self.event("g-2") + "\n").utf8)
        try dir.write("a.gz", Gzip.compress(bytes))
        let whole = try ExportHandover.run(
            inputs: [try Self.exported(dir.file("a.gz"), endOffset: UInt64(bytes.count))], until: nil,
            stateDirectory: dir.file("s1"), force: false)
        #expect(whole.handedOver.first?.finished == true)
        let part = try ExportHandover.run(
            inputs: [try Self.exported(dir.file("a.gz"), endOffset: UInt64(bytes.count / 2))], until: nil,
            stateDirectory: dir.file("s2"), force: false)
        #expect(part.handedOver.first?.finished == false)
    }

    @Test func filesAreMatchedByIdentityFirstAndByContentLikeTheAgent() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        // A plain file and its compressed copy: the same first bytes, two files.
        let text = (1...3).map { Self.event("c-\($0)") + "\n" }.joined()
        try dir.write("logs/app.log", text)
        try dir.write("logs/app.log.1.gz", Gzip.compress(Array(text.utf8)))
        let end = UInt64(text.utf8.count)
        let inputs = [
            try Self.exported(dir.file("logs/app.log"), endOffset: end),
            try Self.exported(dir.file("logs/app.log.1.gz"), endOffset: end),
        ]
        let state = dir.file("state")
        #expect(
            try ExportHandover.run(inputs: inputs, until: nil, stateDirectory: state, force: false).handedOver.count
                == 2)
        let again = try ExportHandover.run(inputs: inputs, until: nil, stateDirectory: state, force: false)
        #expect(again.unchanged.count == 2 && again.handedOver.isEmpty)

        // An entry with the same first bytes for a file that is gone (the agent's content match) is a conflict.
        let store = DiskCheckpointStore(directory: state)
        var gone = try store.load()[0]
        (gone.device, gone.inode, gone.offset) = (1, 1, 5)
        try store.save([gone])
        #expect {
            _ = try ExportHandover.run(inputs: [inputs[0]], until: nil, stateDirectory: state, force: false)
        } throws: { error in
            (error as? ExportHandover.Failure)?.message.contains("checkpoint at offset 5") == true
        }
        let forced = try ExportHandover.run(inputs: [inputs[0]], until: nil, stateDirectory: state, force: true)
        #expect(forced.replaced == [gone])
        #expect(try store.load().map(\.offset) == [end])
    }
}
