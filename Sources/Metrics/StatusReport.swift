import Checkpoints
import Foundation
import JSON
import SystemIO
import Tailing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What `personalize-tail status` shows: each checkpointed file with its offset, its size now, how far behind the
/// agent is, and when its checkpoint last moved; and the dead-letter file.
///
/// Reads `checkpoints.json` without taking the lock: the agent replaces that file atomically, so a read always sees
/// one whole version, and a running agent is never disturbed.
public struct StatusReport: Sendable {
    public struct FileRow: Sendable, Equatable {
        /// Where the file was last seen.
        public var path: String
        public var offset: UInt64
        /// The size now when the file at `path` is still the checkpointed one; else the size last recorded.
        public var size: UInt64
        public var compressed: Bool
        /// Bytes not delivered yet (plain files at their path); nil when that cannot be told from sizes.
        public var behind: UInt64?
        /// `behind` as shown: a byte count, or for gzip `done` / `partial` / `damaged at N`, or `gone`, `replaced`
        /// (another file now has the path), `truncated`.
        public var behindText: String
        /// Epoch milliseconds of the last checkpoint change.
        public var updatedAt: Int64
    }

    public struct DeadLetterFile: Sendable, Equatable {
        public var path: String
        public var exists: Bool
        public var size: UInt64
        public var lines: Int
    }

    public var checkpointsPath: String
    public var files: [FileRow]
    public var deadLetter: DeadLetterFile
    /// Epoch milliseconds when the report was made ("ago" is relative to it).
    public var now: Int64
    /// The pid of the agent holding the state directory's lock, when one is running.
    public var agentPid: Int32?

    /// Reads the state directory. Throws when `checkpoints.json` is unreadable or corrupt.
    public static func read(stateDirectory: String, deadLetterPath: String, now: Date = Date()) throws -> StatusReport {
        let store = DiskCheckpointStore(directory: stateDirectory)
        let checkpoints = try store.load()
        let rows = checkpoints.sorted { $0.path == $1.path ? $0.updatedAt > $1.updatedAt : $0.path < $1.path }
            .map { row(for: $0, current: FileStat.of(path: $0.path)) }
        return StatusReport(
            checkpointsPath: store.path, files: rows, deadLetter: deadLetterFile(deadLetterPath),
            now: Int64(now.timeIntervalSince1970 * 1000), agentPid: runningAgent(stateDirectory: stateDirectory))
    }

    /// The pid the lock file names, when that process still runs. Read without taking the lock (a status that
    /// briefly held it could make an agent starting at that moment exit with status 5).
    static func runningAgent(stateDirectory: String) -> Int32? {
        guard let text = try? String(contentsOfFile: stateDirectory + "/lock", encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0
        else { return nil }
        guard kill(pid, 0) == 0 || errno == EPERM else { return nil }
        if let cmdline = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
            !cmdline.contains("personalize-tail")
        {
            return nil  // the pid was reused by another program
        }
        return pid
    }

    /// One row, from a checkpoint and what is at its path now.
    static func row(for c: FileCheckpoint, current: FileStat?) -> FileRow {
        var size = c.size
        var behind: UInt64?
        let text: String
        if let current, current.device == c.device, current.inode == c.inode {
            size = current.size
            if c.compressed {
                if let damaged = c.damagedAt {
                    text = "damaged at \(damaged)"
                } else if c.finished && current.size == c.size {
                    text = "done"
                } else {
                    text = "partial"
                }
            } else if current.size < c.offset {
                text = "truncated"
            } else {
                behind = current.size - c.offset
                text = String(current.size - c.offset)
            }
        } else if c.compressed, c.finished || c.damagedAt != nil {
            // A finished archive that moved or was removed: nothing left to do with it.
            text = c.damagedAt.map { "damaged at \($0)" } ?? "done"
        } else {
            text = current == nil ? "gone" : "replaced"
        }
        return FileRow(
            path: c.path, offset: c.offset, size: size, compressed: c.compressed, behind: behind, behindText: text,
            updatedAt: c.updatedAt)
    }

    static func deadLetterFile(_ path: String) -> DeadLetterFile {
        guard let identity = FileStat.of(path: path) else {
            return DeadLetterFile(path: path, exists: false, size: 0, lines: 0)
        }
        return DeadLetterFile(path: path, exists: true, size: identity.size, lines: countLines(path))
    }

    /// Newlines in the file, read in chunks (the file may be large).
    static func countLines(_ path: String) -> Int {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var count = 0
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { POSIXIO.read(fd, into: $0) }
            if n <= 0 { break }
            for i in 0..<n where chunk[i] == UInt8(ascii: "\n") { count += 1 }
        }
        return count
    }
}
