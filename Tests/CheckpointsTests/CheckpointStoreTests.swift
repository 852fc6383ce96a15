import Checkpoints
import Foundation
import TestSupport
import Testing

@Suite struct CheckpointStoreTests {
    static let samples = [
        FileCheckpoint(
            fingerprint: "0123456789abcdef0123456789abcdef", fingerprintLength: 1024, device: 2049,
            inode: UInt64.max - 1, path: "/var/log/app/events.jsonl", offset: 123_456_789, size: 200_000_000,
            compressed: false, updatedAt: 1_764_000_000_000),
        FileCheckpoint(
            fingerprint: "fedcba9876543210fedcba9876543210", fingerprintLength: 17, device: 0, inode: 1,
            path: "/var/log/odd \"name\"\\ \u{e9}\u{1F600}\n.gz", offset: 0, size: 9, compressed: true,
            finished: true, damagedAt: 4_096, updatedAt: 0),
    ]

    @Test func roundTrip() throws {
        let dir = try TemporaryDirectory()
        let store = DiskCheckpointStore(directory: dir.path)
        #expect(store.path == dir.url("checkpoints.json"))
        try store.save(Self.samples)
        #expect(try store.load() == Self.samples)
        #expect(try DiskCheckpointStore(directory: dir.path).load() == Self.samples)  // a new instance: from disk
        try store.save([])
        #expect(try store.load() == [])
    }

    @Test func missingFileIsNoCheckpoints() throws {
        let dir = try TemporaryDirectory()
        #expect(try DiskCheckpointStore(directory: dir.path).load() == [])
    }

    @Test func fileIsOwnerOnlyEvenWhenItWasNot() throws {
        let dir = try TemporaryDirectory()
        try dir.write("checkpoints.json", "{\"version\":1,\"files\":[]}", mode: 0o644)
        let store = DiskCheckpointStore(directory: dir.path)
        try store.save(Self.samples)
        #expect(permissions(store.path) == 0o600)
    }

    @Test func noTemporaryFileIsLeftBehind() throws {
        let dir = try TemporaryDirectory()
        let store = DiskCheckpointStore(directory: dir.path)
        try store.save(Self.samples)
        #expect(try dir.names() == ["checkpoints.json"])
        // A .tmp left by a crash mid-write is replaced, then renamed away.
        try dir.write("checkpoints.json.tmp", "{\"torn", mode: 0o666)
        try store.save(Self.samples)
        #expect(try dir.names() == ["checkpoints.json"])
        #expect(try store.load() == Self.samples)
    }

    @Test func writeFailureNamesThePathAndLeavesTheOldState() throws {
        let dir = try TemporaryDirectory()
        let store = DiskCheckpointStore(directory: dir.path)
        try store.save(Self.samples)
        // A directory where the temporary file must go makes the write fail.
        try FileManager.default.createDirectory(atPath: store.path + ".tmp", withIntermediateDirectories: false)
        #expect {
            try store.save([])
        } throws: { error in
            (error as? CheckpointError)?.path == store.path + ".tmp"
        }
        #expect(try store.load() == Self.samples)
    }

    @Test func otherVersionIsRefusedWithBothVersions() throws {
        let dir = try TemporaryDirectory()
        try dir.write("checkpoints.json", "{\"version\":3,\"files\":[]}")
        #expect {
            try DiskCheckpointStore(directory: dir.path).load()
        } throws: { error in
            let text = String(describing: error)
            return text.contains("version 3") && text.contains("versions 1 to 2") && text.contains(dir.path)
        }
    }

    /// State written before identity keys existed resumes: each file's fingerprint stands in for its key, which is
    /// what its derived event ids were computed from.
    @Test func versionOneStateIsReadWithFingerprintsAsKeys() throws {
        let dir = try TemporaryDirectory()
        try dir.write(
            "checkpoints.json",
            #"{"version":1,"files":[{"fingerprint":"00ff","fingerprintLength":1024,"device":"1","inode":"2","path":"/x/app.log","offset":77,"size":90,"compressed":false,"finished":false,"updatedAt":5}]}"#
        )
        let store = DiskCheckpointStore(directory: dir.path)
        let loaded = try store.load()
        #expect(loaded.count == 1)
        #expect(loaded.first?.key == "00ff")
        #expect(loaded.first?.offset == 77)
        try store.save(loaded)
        #expect(try String(contentsOfFile: store.path, encoding: .utf8).contains(#""version":2"#))
        #expect(try store.load() == loaded)
    }

    @Test(arguments: [
        ("{\"version\":1,\"files\":[", "not valid JSON"),
        ("", "not valid JSON"),
        ("{\"files\":[]}", "no version"),
        ("{\"version\":\"1\",\"files\":[]}", "no version"),
        ("{\"version\":1}", "no files"),
        ("{\"version\":1,\"files\":[{\"fingerprint\":\"ab\"}]}", "entry 0"),
        (
            "{\"version\":1,\"files\":[{\"fingerprint\":\"ab\",\"fingerprintLength\":2,\"device\":\"1\",\"inode\":\"x\",\"path\":\"/a\",\"offset\":0}]}",
            "entry 0"
        ),
        (
            "{\"version\":1,\"files\":[{\"fingerprint\":\"ab\",\"fingerprintLength\":2,\"device\":\"1\",\"inode\":\"2\",\"path\":\"/a\",\"offset\":-5}]}",
            "entry 0"
        ),
    ])
    func corruptFilesAreErrorsThatSayWhy(content: String, reason: String) throws {
        let dir = try TemporaryDirectory()
        try dir.write("checkpoints.json", content)
        #expect {
            try DiskCheckpointStore(directory: dir.path).load()
        } throws: { error in
            guard let error = error as? CheckpointError else { return false }
            return error.description.contains(reason) && !error.isLocked
        }
    }

    @Test func optionalFieldsDefault() throws {
        let dir = try TemporaryDirectory()
        try dir.write(
            "checkpoints.json",
            "{\"version\":1,\"files\":[{\"fingerprint\":\"ab\",\"fingerprintLength\":2,\"device\":\"1\",\"inode\":\"2\",\"path\":\"/a\",\"offset\":7}]}"
        )
        let loaded = try DiskCheckpointStore(directory: dir.path).load()
        #expect(
            loaded == [
                FileCheckpoint(
                    fingerprint: "ab", fingerprintLength: 2, device: 1, inode: 2, path: "/a", offset: 7, size: 0,
                    compressed: false, updatedAt: 0)
            ])
    }

    @Test func memoryStoreCountsSaves() throws {
        let store = MemoryCheckpointStore(Self.samples)
        #expect(try store.load() == Self.samples)
        try store.save([])
        try store.save(Array(Self.samples.prefix(1)))
        #expect(try store.load() == Array(Self.samples.prefix(1)))
        #expect(store.saveCount == 2)
    }
}

@Suite struct AtomicFileTests {
    @Test func makeDirectoryCreatesParentsOwnerOnly() throws {
        let dir = try TemporaryDirectory()
        let state = dir.url("a/b/state")
        try AtomicFile.makeDirectory(state)
        for path in [dir.url("a"), dir.url("a/b"), state] { #expect(permissions(path) == 0o700, "\(path)") }
        try AtomicFile.makeDirectory(state)  // already there: fine
        try AtomicFile.makeDirectory(state + "/")
    }

    @Test func makeDirectoryUnderAFileFails() throws {
        let dir = try TemporaryDirectory()
        try dir.write("file", "x")
        #expect(throws: CheckpointError.self) { try AtomicFile.makeDirectory(dir.url("file/state")) }
    }

    @Test func writeThenReadBytes() throws {
        let dir = try TemporaryDirectory()
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try AtomicFile.write(bytes, to: dir.url("blob"))
        #expect(try AtomicFile.read(dir.url("blob")) == bytes)
        try AtomicFile.write([], to: dir.url("blob"))
        #expect(try AtomicFile.read(dir.url("blob")) == [])
        #expect(permissions(dir.url("blob")) == 0o600)
    }
}

@Suite struct StateDirectoryTests {
    /// What statfs(2) says (through coreutils' `stat -f`), as an oracle independent of /proc/self/mounts.
    static func statfsSaysTmpfs(_ path: String) -> Bool? {
        guard let out = try? ChildProcess.runBlocking(["/usr/bin/env", "stat", "-f", "-c", "%T", path]),
            out.status == 0
        else { return nil }
        let type = out.stdout
        let name = type.trimmingCharacters(in: .whitespacesAndNewlines)
        return name == "tmpfs" || name == "ramfs"
    }

    @Test(.enabled(if: statfsSaysTmpfs("/dev/shm") == true)) func devShmIsTmpfs() throws {
        #expect(StateDirectory.isOnTmpfs("/dev/shm"))
        let dir = "/dev/shm/checkpoints-tests-\(getpid())"
        try AtomicFile.makeDirectory(dir)
        defer { rmdir(dir) }
        #expect(StateDirectory.isOnTmpfs(dir))
    }

    @Test func temporaryDirectoryAgreesWithStatfs() throws {
        let dir = try TemporaryDirectory()
        let expected = try #require(Self.statfsSaysTmpfs(dir.path))
        #expect(StateDirectory.isOnTmpfs(dir.path) == expected)
    }

    @Test func missingPathIsNotTmpfs() {
        #expect(!StateDirectory.isOnTmpfs("/nonexistent/\(getpid())/state"))
    }

    @Test func rootIsNotTmpfsWhenStatfsSaysSo() throws {
        let expected = try #require(Self.statfsSaysTmpfs("/"))
        #expect(StateDirectory.isOnTmpfs("/") == expected)
    }
}
