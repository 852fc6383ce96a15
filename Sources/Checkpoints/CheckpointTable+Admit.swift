import Tailing

extension CheckpointTable {
    /// What a newly seen file is, once ``CheckpointTable/match(head:fingerprint:stat:compressed:probe:)`` decided
    /// which entry it continues, and the entry it is read under.
    public enum Admission: Equatable, Sendable {
        /// A copy of a file being read (entry `of`): everything in it comes from that file; not read.
        case copyOfLive(of: Int)
        /// A copy of a file whose live stream (attached to `entry`) found it truncated, holding lines that stream did
        /// not hand out: the stream goes on in the copy from `offset`, under the same key (the lines keep their
        /// ids), and `entry` now names the copy, so its checkpoint (which the stream's unresolved lines hold back)
        /// resumes there after a crash.
        case continues(entry: Int, offset: UInt64)
        /// A finished archive seen again with the same size: nothing new; not read (settle it).
        case finishedArchive(Int)
        /// A plain copy that ends before its original's checkpoint: it holds only lines already delivered
        /// (copytruncate's copy, after the agent read lines written between the copy and the truncate). It got an
        /// entry of its own (`entry`, with the original's key), so the original's stays where it was read to; not
        /// read (settle it).
        case alreadyRead(entry: Int, original: Int)
        /// Read the file from `offset` under `entry`; `created` when that entry is new (save it before reading, so a
        /// crash cannot give its lines other ids).
        case read(entry: Int, offset: UInt64, created: Bool)
    }

    /// Carries out `match` for a new file at `path` in the table: the entry it continues takes its new place (path,
    /// device, inode; a longer fingerprint), or an entry is made for it (a new file, a truncated one, one that only
    /// shares a head: a key of its own; the longer original of a live copy: the copy's key, read from
    /// `continuation(after)`, the first line end after the copy's bytes). `updatedAt` is wall-clock milliseconds.
    public mutating func admit(
        _ match: Match, path: String, stat st: FileStat, head: [UInt8], fingerprint: Fingerprint, compressed: Bool,
        updatedAt: Int64, continuation: (_ after: UInt64) -> UInt64
    ) -> Admission {
        let file = FileIdentity.FileID(st)
        var offset: UInt64 = 0
        var entry: Int?
        switch match {
        case .copyOfLive(let id):
            noteCopy(file, of: id)
            return .copyOfLive(of: id)
        case .copyOfTruncated(let id):
            // A plain copy no longer than what the stream handed out holds nothing new: it waits as a live copy
            // (matched against the entry's checkpoint once the stream is done, like any copy of a read file).
            guard let at = truncated[id], compressed || st.size > at else {
                noteCopy(file, of: id)
                return .copyOfLive(of: id)
            }
            copies[file] = nil
            truncated[id] = nil
            move(id, to: path, stat: st, compressed: compressed, fingerprint: fingerprint) { $0.size = st.size }
            noteHead(id, head)
            return .continues(entry: id, offset: at)
        case .copy(let id), .resume(let id):
            let c = entries[id]!
            offset = c.offset
            if c.finished && c.compressed && compressed && c.size == st.size {
                update(id) { $0.path = path }
                return .finishedArchive(id)
            }
            if case .copy = match, !compressed, st.size < offset {
                let copy = insert(
                    FileCheckpoint(
                        fingerprint: fingerprint.hash, fingerprintLength: fingerprint.length, device: st.device,
                        inode: st.inode, path: path, offset: st.size, size: st.size, compressed: false,
                        updatedAt: updatedAt, key: c.key))
                noteCopy(file, of: copy)
                return .alreadyRead(entry: copy, original: id)
            }
            move(id, to: path, stat: st, compressed: compressed, fingerprint: fingerprint)
            entry = id
        case .extends(let id, let after):
            // The file being read is a shorter copy of this one: it delivers its own lines; this one continues
            // after them, under the same key.
            offset = continuation(after)
            entry = insert(
                FileCheckpoint(
                    fingerprint: fingerprint.hash, fingerprintLength: fingerprint.length, device: st.device,
                    inode: st.inode, path: path, offset: offset, size: st.size, compressed: compressed,
                    updatedAt: updatedAt, key: entries[id]!.key))
            noteHead(entry!, head)
            return .read(entry: entry!, offset: offset, created: true)
        case .truncated, .sharedHead, .new:
            break
        }
        if let entry {
            noteHead(entry, head)
            return .read(entry: entry, offset: offset, created: false)
        }
        let created = insert(
            FileCheckpoint(
                fingerprint: fingerprint.hash, fingerprintLength: fingerprint.length, device: st.device,
                inode: st.inode,
                path: path, offset: 0, size: st.size, compressed: compressed, updatedAt: updatedAt,
                key: uniqueKey(fingerprint.hash, device: st.device, inode: st.inode)))
        noteHead(created, head)
        return .read(entry: created, offset: 0, created: true)
    }

    /// Entry `id` now names the file at `path` (`st`), read as `compressed`, not finished; its fingerprint grows to
    /// `fingerprint` when that is longer. `also` changes more of it in the same update.
    private mutating func move(
        _ id: Int, to path: String, stat st: FileStat, compressed: Bool, fingerprint: Fingerprint,
        also: (inout FileCheckpoint) -> Void = { _ in }
    ) {
        update(id) {
            $0.path = path
            $0.device = st.device
            $0.inode = st.inode
            $0.compressed = compressed
            $0.finished = false
            if fingerprint.length > $0.fingerprintLength {
                $0.fingerprint = fingerprint.hash
                $0.fingerprintLength = fingerprint.length
            }
            also(&$0)
        }
    }
}
