import JSON
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where checkpoints live. A protocol only because tests swap the disk for memory.
public protocol CheckpointStore: Sendable {
    func load() throws(CheckpointError) -> [FileCheckpoint]
    func save(_ checkpoints: [FileCheckpoint]) throws(CheckpointError)
    /// Saves `checkpoints` and, in the same atomic write, `sessions` (a JSON document the caller made: the
    /// sessionization state as of these checkpoints).
    func save(_ checkpoints: [FileCheckpoint], sessions: [UInt8]) throws(CheckpointError)
    /// The `sessions` document saved with the checkpoints, if any.
    func loadSessions() throws(CheckpointError) -> JSONValue?
}

/// Checkpoints in `<state>/checkpoints.json`, versioned, replaced atomically (write a temporary file, fsync it,
/// rename it over the old one, fsync the directory), so a crash at any instant leaves the old or the new state,
/// never a torn one.
///
/// Version 2 added each file's identity `key` (what derived event ids hash); version 1 is still read, its
/// fingerprints standing in for the keys, so ids derived before the upgrade stay the same.
public struct DiskCheckpointStore: CheckpointStore {
    public static let formatVersion = 2
    /// The oldest format this build reads.
    public static let oldestReadableVersion = 1
    public static let fileName = "checkpoints.json"

    public let directory: String
    public var path: String { directory + "/" + Self.fileName }

    public init(directory: String) {
        self.directory = directory
    }

    public func load() throws(CheckpointError) -> [FileCheckpoint] {
        let bytes: [UInt8]
        do {
            bytes = try AtomicFile.read(path)
        } catch let error where error.isNotFound {
            return []
        }
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw .corrupt(path, "is not valid JSON (\(error)); move it aside to start over, which re-sends the files")
        }
        guard let version = document["version"]?.numberValue?.int64 else {
            throw .corrupt(path, "has no version")
        }
        guard version >= Int64(Self.oldestReadableVersion), version <= Int64(Self.formatVersion) else {
            throw .corrupt(
                path,
                "has format version \(version); this build reads versions \(Self.oldestReadableVersion) to \(Self.formatVersion)"
            )
        }
        guard let files = document["files"]?.arrayValue else { throw .corrupt(path, "has no files list") }
        var result: [FileCheckpoint] = []
        for (i, entry) in files.enumerated() {
            guard let checkpoint = FileCheckpoint(json: entry) else {
                throw .corrupt(path, "entry \(i) is malformed")
            }
            result.append(checkpoint)
        }
        return result
    }

    public func loadSessions() throws(CheckpointError) -> JSONValue? {
        let bytes: [UInt8]
        do {
            bytes = try AtomicFile.read(path)
        } catch let error where error.isNotFound {
            return nil
        }
        guard let document = try? JSONParser.parse(bytes) else {
            throw .corrupt(path, "is not valid JSON; move it aside to start over, which re-sends the files")
        }
        return document["sessions"]
    }

    public func save(_ checkpoints: [FileCheckpoint]) throws(CheckpointError) {
        try save(checkpoints, sessions: nil)
    }

    public func save(_ checkpoints: [FileCheckpoint], sessions: [UInt8]) throws(CheckpointError) {
        try save(checkpoints, sessions: Optional(sessions))
    }

    private func save(_ checkpoints: [FileCheckpoint], sessions: [UInt8]?) throws(CheckpointError) {
        var w = JSONWriter(capacity: 256 + checkpoints.count * 256 + (sessions?.count ?? 0))
        w.raw("{\"version\":")
        w.number(Int64(Self.formatVersion))
        w.raw(",\"files\":[")
        for (i, c) in checkpoints.enumerated() {
            if i > 0 { w.raw(",\n") } else { w.raw("\n") }
            c.write(to: &w)
        }
        w.raw("\n]")
        if let sessions {
            w.raw(",\n\"sessions\":")
            w.bytes.append(contentsOf: sessions)
        }
        w.raw("}\n")
        try AtomicFile.write(w.bytes, to: path)
    }
}

/// Keeps checkpoints in memory, for tests.
public final class MemoryCheckpointStore: CheckpointStore, Sendable {
    private let state: Mutex<(stored: [FileCheckpoint], sessions: JSONValue?, saves: Int)>

    public init(_ initial: [FileCheckpoint] = []) {
        state = Mutex((initial, nil, 0))
    }

    public var saveCount: Int { state.withLock { $0.saves } }

    public func load() throws(CheckpointError) -> [FileCheckpoint] {
        state.withLock { $0.stored }
    }

    public func save(_ checkpoints: [FileCheckpoint]) throws(CheckpointError) {
        state.withLock {
            $0.stored = checkpoints
            $0.saves += 1
        }
    }

    public func save(_ checkpoints: [FileCheckpoint], sessions: [UInt8]) throws(CheckpointError) {
        let document = try? JSONParser.parse(sessions)
        state.withLock {
            $0.stored = checkpoints
            $0.sessions = document
            $0.saves += 1
        }
    }

    public func loadSessions() throws(CheckpointError) -> JSONValue? {
        state.withLock { $0.sessions }
    }
}
