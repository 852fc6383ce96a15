import AgentConfig
import Checkpoints
import Foundation
import SystemIO
import Tailing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `personalize-tail checkpoint --from-export`: checkpoints that make the live agent start where a bulk export
/// stopped, so that it sends only what was written after the export.
///
/// Pipeline does not know the manifest's format (BulkExport owns it, with the writer); the command decodes
/// `manifest.json` with `ExportManifest.read(path:)` and passes each input's identity and end offset as an
/// ``ExportHandover/Input``. Every file is checked against the disk before its checkpoint is written: the same
/// device and inode (or, after a rename, a file with them in the same directory) and the same first bytes.
public enum ExportHandover {
    /// One file the export read: who it is and how far it was read (decompressed offset).
    public struct Input: Sendable, Hashable {
        public var path: String
        public var compressed: Bool
        /// `nil` for a file that was empty or unreadable during the export (nothing of it was exported).
        public var fingerprint: String?
        public var fingerprintLength: Int?
        public var device: UInt64
        public var inode: UInt64
        /// Just past the last line exported or rejected.
        public var endOffset: UInt64

        public init(
            path: String, compressed: Bool, fingerprint: String?, fingerprintLength: Int?, device: UInt64,
            inode: UInt64,
            endOffset: UInt64
        ) {
            self.path = path
            self.compressed = compressed
            self.fingerprint = fingerprint
            self.fingerprintLength = fingerprintLength
            self.device = device
            self.inode = inode
            self.endOffset = endOffset
        }
    }

    public struct Skipped: Sendable, Hashable {
        public var path: String
        public var reason: String
    }

    public struct Report: Sendable {
        /// Checkpoints written (new or replacing earlier ones).
        public var handedOver: [FileCheckpoint] = []
        /// Earlier checkpoints that `force` replaced.
        public var replaced: [FileCheckpoint] = []
        /// Files whose checkpoint already stood exactly at the export's end (a repeated hand-over): left alone.
        public var unchanged: [String] = []
        /// Files that no longer match the export (only with `force`; otherwise they fail the hand-over).
        public var skipped: [Skipped] = []
        /// Files nothing was exported from (empty or unreadable then): the agent reads them from the start.
        public var leftToAgent: [String] = []
        public var warnings: [String] = []

        /// Decompressed bytes the agent will not send again.
        public var bytes: UInt64 { handedOver.reduce(0) { $0 + $1.offset } }
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var status: ExitStatus
        public var message: String
        public var description: String { message }
    }

    /// Writes one checkpoint per input into `stateDirectory`, under the state lock (never waiting for it).
    ///
    /// Refuses, with ``ExitStatus/configuration`` and nothing written, an export made with `--until`, inputs that no
    /// longer match the disk, and files that already have a checkpoint; `force` writes anyway (skipping files that
    /// no longer match, replacing earlier checkpoints). A held lock fails with ``ExitStatus/locked``.
    public static func run(
        inputs: [Input], until: String?, stateDirectory: String, force: Bool,
        now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)
    ) throws(Failure) -> Report {
        var report = Report()
        if let until {
            let why =
                "the export was made with --until \(until): events written after that time and before the export "
                + "ended are in neither the import nor the stream"
            guard force else {
                throw Failure(
                    status: .configuration,
                    message: "\(why); export again without --until, or pass --force to accept the gap")
            }
            report.warnings.append(why + " (--force)")
        }

        let lock: StateLock
        let store = DiskCheckpointStore(directory: stateDirectory)
        var existing: [FileCheckpoint]
        do {
            try AtomicFile.makeDirectory(stateDirectory)
            lock = try StateLock.acquire(directory: stateDirectory, wait: false)
            existing = try store.load()
        } catch {
            throw Failure(status: error.isLocked ? .locked : .configuration, message: "\(error)")
        }
        defer { withExtendedLifetime(lock) {} }

        var problems: [Skipped] = []
        var conflicts: [(input: String, earlier: FileCheckpoint)] = []
        var planned: [(checkpoint: FileCheckpoint, replacing: [Int])] = []
        var claimed = Set<Int>()  // existing entries some input already replaces
        let exportedFiles = Set(
            inputs.filter { $0.fingerprint != nil }.map { FileIdentity.FileID(device: $0.device, inode: $0.inode) })
        let table = CheckpointTable(existing)  // entry ids are indices into `existing`
        for input in inputs {
            guard let hash = input.fingerprint, let length = input.fingerprintLength, length > 0, input.endOffset > 0
            else {
                report.leftToAgent.append(input.path)
                continue
            }
            let file: (path: String, stat: FileStat, head: [UInt8])
            switch locate(input, fingerprint: Fingerprint(hash: hash, length: length)) {
            case .failure(let failure):
                problems.append(Skipped(path: input.path, reason: failure.reason))
                continue
            case .success(let found):
                file = found
                if found.path != input.path {
                    report.warnings.append(
                        "\(input.path): renamed to \(found.path) since the export; handed over there")
                }
            }
            let checkpoint = FileCheckpoint(
                fingerprint: hash, fingerprintLength: length, device: file.stat.device, inode: file.stat.inode,
                path: file.path, offset: input.endOffset, size: file.stat.size, compressed: input.compressed,
                finished: input.compressed && gzipEnds(path: file.path, decompressedLength: input.endOffset),
                updatedAt: now)
            // The entries the agent could take for this file, as it matches them: the same device and inode, or
            // else the same first bytes (a copy or rotation), unless that entry is another file of this export.
            let same = table.claimants(of: FileIdentity.FileID(file.stat), head: file.head, excluding: exportedFiles)
            if !same.isEmpty && same.allSatisfy({ isSame(existing[$0], checkpoint) }) {
                report.unchanged.append(file.path)
                continue
            }
            if !force {
                conflicts += same.map { (file.path, existing[$0]) }
            }
            claimed.formUnion(same)
            planned.append((checkpoint, same))
        }

        if !force && (!problems.isEmpty || !conflicts.isEmpty) {
            var lines: [String] = []
            if !problems.isEmpty {
                lines.append("\(problems.count) file(s) no longer match the export:")
                lines += problems.map { "  \($0.path): \($0.reason)" }
            }
            if !conflicts.isEmpty {
                lines.append("\(conflicts.count) checkpoint(s) already exist in \(store.path) for files of the export:")
                lines += conflicts.map {
                    "  \($0.input): checkpoint at offset \($0.earlier.offset) (\($0.earlier.path), device \($0.earlier.device) inode \($0.earlier.inode))"
                }
            }
            lines.append(
                "nothing was written; pass --force to "
                    + [
                        problems.isEmpty ? nil : "skip files that changed",
                        conflicts.isEmpty ? nil : "replace those checkpoints",
                    ]
                    .compactMap { $0 }.joined(separator: " and "))
            throw Failure(status: .configuration, message: lines.joined(separator: "\n"))
        }
        report.skipped = problems
        for p in problems {
            report.warnings.append("\(p.path): \(p.reason); skipped (--force): the agent treats it as a new file")
        }

        report.replaced = claimed.sorted().map { existing[$0] }
        var result = existing.indices.filter { !claimed.contains($0) }.map { existing[$0] }
        for plan in planned {
            result.append(plan.checkpoint)
            report.handedOver.append(plan.checkpoint)
        }
        if !planned.isEmpty || !claimed.isEmpty {
            do {
                try store.save(result)
            } catch {
                throw Failure(status: .configuration, message: "\(error)")
            }
        }
        return report
    }

    private static func isSame(_ a: FileCheckpoint, _ b: FileCheckpoint) -> Bool {
        a.device == b.device && a.inode == b.inode && a.fingerprint == b.fingerprint
            && a.fingerprintLength == b.fingerprintLength && a.offset == b.offset && a.compressed == b.compressed
    }

    /// The file the input names: at its path, or renamed within its directory (same device and inode), with the
    /// first bytes the export fingerprinted.
    private static func locate(_ input: Input, fingerprint: Fingerprint)
        -> Result<(path: String, stat: FileStat, head: [UInt8]), LocateFailure>
    {
        var path = input.path
        var stat = FileStat.of(path: path)
        if stat.map({ $0.device != input.device || $0.inode != input.inode }) ?? true {
            let directory = (input.path as NSString).deletingLastPathComponent
            let names =
                (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? []
            let renamed = names.sorted().lazy.map { (directory as NSString).appendingPathComponent($0) }
                .compactMap { p in FileStat.of(path: p).map { (p, $0) } }
                .first { $0.1.device == input.device && $0.1.inode == input.inode && $0.1.isRegularFile }
            guard let renamed else {
                return .failure(
                    LocateFailure(
                        stat == nil
                            ? "no longer exists" : "is another file now (device/inode changed: rotated or replaced)"))
            }
            (path, stat) = (renamed.0, renamed.1)
        }
        let head: [UInt8]
        do {
            head = try Fingerprint.readHead(path: path, count: Fingerprint.fullLength)
        } catch {
            return .failure(LocateFailure(error.message))
        }
        guard fingerprint.matches(prefixOf: head) else {
            return .failure(LocateFailure("its first bytes differ from the export's (truncated or rewritten)"))
        }
        if !input.compressed, stat!.size < input.endOffset {
            return .failure(LocateFailure("is shorter (\(stat!.size) bytes) than the export read (\(input.endOffset))"))
        }
        return .success((path, stat!, head))
    }

    private struct LocateFailure: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// Whether a gzip file ends where the export stopped reading: its trailer's ISIZE (decompressed length mod 2^32)
    /// equals `decompressedLength`. Cheap (8 bytes read); a multi-member or damaged file, or one still being
    /// written, answers false and is simply decompressed once more by the agent, which then marks it finished.
    static func gzipEnds(path: String, decompressedLength: UInt64) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let size = lseek(fd, 0, SEEK_END)
        guard size >= 18 else { return false }
        var trailer = [UInt8](repeating: 0, count: 8)
        let n = trailer.withUnsafeMutableBytes { POSIXIO.read(fd, into: $0, at: Int64(size - 8)) }
        guard n == 8 else { return false }
        let isize = UInt32(trailer[4]) | UInt32(trailer[5]) << 8 | UInt32(trailer[6]) << 16 | UInt32(trailer[7]) << 24
        return isize == UInt32(truncatingIfNeeded: decompressedLength)
    }
}
