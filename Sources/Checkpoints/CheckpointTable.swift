import Tailing

/// The in-memory checkpoint table: every file ever seen (until pruned), with at most one live stream attached, and
/// the decision of which entry (if any) a newly seen file continues.
///
/// Identity is decided in this order, and nothing here does I/O: what needs a look at another file's content is
/// asked of the `probe` the caller passes.
/// 1. A file already found to be a copy of an entry stays one.
///    A copy of an entry whose live stream found its file truncated (logrotate `copytruncate`) holds the lines that
///    stream had not read: the stream goes on in the copy (``Match/copyOfTruncated(_:)``).
/// 2. The same device and inode whose first bytes still match: the same file (renamed, or back after a restart).
///    Shorter than its checkpoint, it was truncated while nobody watched: a new file in the same place.
/// 3. Another file whose first bytes match an entry's fingerprint is a rotated copy of it (logrotate `copy`,
///    `copytruncate`, compression) unless the entry's own file is still there, unchanged, and the two differ
///    further in (`probe` says `.different`): then they only share a head (a banner) and both are read.
/// 4. A file shorter than the full fingerprint is looked up by its first line too, so a short copy of a file that
///    has grown since is recognised.
///
/// Indexed by fingerprint length and hash, so matching a new file costs one hash per distinct fingerprint length,
/// not one per known file.
public struct CheckpointTable: Sendable {
    public private(set) var entries: [Int: FileCheckpoint] = [:]
    public var attached: [Int: Int] = [:]  // entry -> stream id
    /// Entries whose live stream found its file truncated, with the end of the last line that stream handed out: a
    /// copy of the file continues from there. Never saved: after a restart the copy resumes from the checkpoint.
    public internal(set) var truncated: [Int: UInt64] = [:]
    private var index: [Int: [String: Set<Int>]] = [:]  // fingerprint length -> hash -> entries
    /// Entries by the hash of their file's first line (for short heads; see ``FileIdentity/firstLineHash(_:)``).
    private var firstLines: [String: Set<Int>] = [:]
    /// The first-line hash each entry was noted under (so a forgotten entry leaves no trace in `firstLines`).
    private var firstLineOf: [Int: String] = [:]
    private var keys: [String: Int] = [:]  // identity key -> number of entries holding it
    /// Files (device, inode) found to be copies of an entry.
    public internal(set) var copies: [FileIdentity.FileID: Int] = [:]
    private var nextId = 0
    public var dirty = false

    public init(_ checkpoints: [FileCheckpoint]) {
        for c in checkpoints { insert(c) }
        dirty = false
    }

    @discardableResult
    public mutating func insert(_ c: FileCheckpoint) -> Int {
        let id = nextId
        nextId += 1
        entries[id] = c
        index[c.fingerprintLength, default: [:]][c.fingerprint, default: []].insert(id)
        keys[c.key, default: 0] += 1
        dirty = true
        return id
    }

    public mutating func update(_ id: Int, _ body: (inout FileCheckpoint) -> Void) {
        guard var c = entries[id] else { return }
        let old = (c.fingerprintLength, c.fingerprint)
        let oldKey = c.key
        body(&c)
        if old != (c.fingerprintLength, c.fingerprint) {
            index[old.0]?[old.1]?.remove(id)
            index[c.fingerprintLength, default: [:]][c.fingerprint, default: []].insert(id)
        }
        if oldKey != c.key {
            keys[oldKey, default: 1] -= 1
            keys[c.key, default: 0] += 1
        }
        entries[id] = c
        dirty = true
    }

    public mutating func remove(_ id: Int) {
        guard detach(id) else { return }
        copies = copies.filter { $0.value != id }
    }

    /// Takes entry `id` out of every index but `copies` (``remove(_:)`` and ``sweep(listed:now:forgetAfter:)``
    /// clear those, one at a time or all at once). False when there was no such entry.
    mutating func detach(_ id: Int) -> Bool {
        guard let c = entries.removeValue(forKey: id) else { return false }
        index[c.fingerprintLength]?[c.fingerprint]?.remove(id)
        if index[c.fingerprintLength]?[c.fingerprint]?.isEmpty == true {
            index[c.fingerprintLength]?[c.fingerprint] = nil
        }
        keys[c.key, default: 1] -= 1
        if keys[c.key] == 0 { keys[c.key] = nil }
        if let hash = firstLineOf.removeValue(forKey: id) {
            firstLines[hash]?.remove(id)
            if firstLines[hash]?.isEmpty == true { firstLines[hash] = nil }
        }
        release(id)
        dirty = true
        return true
    }

    /// Replaces the copy records (``sweep(listed:now:forgetAfter:)`` keeps those of listed files only).
    mutating func keepCopies(where keep: (FileIdentity.FileID, Int) -> Bool) {
        copies = copies.filter { keep($0.key, $0.value) }
    }

    public var all: [FileCheckpoint] { entries.sorted { $0.key < $1.key }.map(\.value) }

    /// The files (device, inode) the entries were last seen as.
    public var files: Set<FileIdentity.FileID> {
        Set(entries.values.map { FileIdentity.FileID(device: $0.device, inode: $0.inode) })
    }

    /// Remembers the first line of an entry's file, so that a short copy of it can be found later.
    public mutating func noteHead(_ id: Int, _ head: [UInt8]) {
        let hash = FileIdentity.firstLineHash(head)
        if let old = firstLineOf[id], old != hash {
            firstLines[old]?.remove(id)
            if firstLines[old]?.isEmpty == true { firstLines[old] = nil }
        }
        firstLineOf[id] = hash
        firstLines[hash, default: []].insert(id)
    }

    /// Entry `id`'s live stream found its file truncated; it handed out every line before `position`.
    public mutating func noteTruncated(_ id: Int, at position: UInt64) {
        guard attached[id] != nil else { return }
        truncated[id] = position
    }

    /// Entry `id` has no live stream any more.
    public mutating func release(_ id: Int) {
        attached[id] = nil
        truncated[id] = nil
    }

    /// What a copy of entry `id`'s file is: one to read from the checkpoint when no stream reads `id`; else one
    /// that stream goes on in if it found its file truncated; else nothing new (the stream reads it all).
    private func copy(of id: Int) -> Match {
        guard attached[id] != nil else { return .copy(id) }
        return truncated[id] != nil ? .copyOfTruncated(id) : .copyOfLive(id)
    }

    /// Remembers that the file `file` is a copy of entry `id`.
    public mutating func noteCopy(_ file: FileIdentity.FileID, of id: Int) {
        copies[file] = id
    }

    /// An identity key for a new file: `base` (the hash of its first bytes now) unless another entry holds it, in
    /// which case the file's device and inode make it unique.
    public func uniqueKey(_ base: String, device: UInt64, inode: UInt64) -> String {
        var key = base
        var salt: UInt64 = 0
        while keys[key, default: 0] > 0 {
            key = FileIdentity.saltedKey(base, device: device, inode: inode, salt: salt)
            salt += 1
        }
        return key
    }

    /// The entries the agent would take for a file whose first bytes are `head`: those of the same file (device and
    /// inode), or else those whose fingerprint `head` begins with (the file is a copy or rotation of theirs), leaving
    /// out the entries of the files in `excluding`. Ascending ids (``init(_:)`` numbers its checkpoints from 0, in
    /// order). The export hand-over asks this before it replaces checkpoints.
    public func claimants(
        of file: FileIdentity.FileID, head: [UInt8], excluding: Set<FileIdentity.FileID> = []
    ) -> [Int] {
        let same = entries.filter { FileIdentity.FileID(device: $0.value.device, inode: $0.value.inode) == file }
        if !same.isEmpty { return same.keys.sorted() }
        var found: [Int] = []
        for (length, byHash) in index where length > 0 && length <= head.count {
            guard let ids = byHash[Fingerprint.of(head.prefix(length)).hash] else { continue }
            for id in ids {
                guard let c = entries[id], !excluding.contains(FileIdentity.FileID(device: c.device, inode: c.inode))
                else { continue }
                found.append(id)
            }
        }
        return found.sorted()
    }

    /// Finds the entry a newly seen file continues (see the type's description for the order of the rules).
    /// `probe(id)` compares the new file with entry `id`'s file, where that file still is.
    public func match(
        head: [UInt8], fingerprint: Fingerprint, stat: FileStat, compressed: Bool,
        probe: (Int) -> FileIdentity.Probe
    ) -> Match {
        let file = FileIdentity.FileID(device: stat.device, inode: stat.inode)
        if let id = copies[file], entries[id] != nil { return copy(of: id) }
        var candidates: [(id: Int, length: Int)] = []
        for (length, byHash) in index where length <= head.count {
            let hash = length == fingerprint.length ? fingerprint.hash : Fingerprint.of(head.prefix(length)).hash
            guard let ids = byHash[hash] else { continue }
            for id in ids { candidates.append((id, length)) }
        }
        // The longest fingerprint first; among equals, the entry that was read the furthest (copies of one file
        // share its head, and continuing the furthest never re-reads what another copy already delivered).
        candidates.sort {
            if $0.length != $1.length { return $0.length > $1.length }
            let a = entries[$0.id]?.offset ?? 0
            let b = entries[$1.id]?.offset ?? 0
            return a != b ? a > b : $0.id < $1.id
        }
        for (id, _) in candidates where attached[id] == nil {
            guard let c = entries[id], c.device == stat.device, c.inode == stat.inode else { continue }
            return !compressed && !c.compressed && stat.size < c.offset ? .truncated(id) : .resume(id)
        }
        var shared: Int?
        for (id, _) in candidates {
            guard let c = entries[id], c.device != stat.device || c.inode != stat.inode else { continue }
            switch probe(id) {
            case .different:
                if shared == nil { shared = id }
            case .same, .gone:
                return copy(of: id)
            case .prefixOf(let size):
                return attached[id] != nil ? .extends(id, after: size) : .copy(id)
            }
        }
        if head.count < Fingerprint.fullLength, let ids = firstLines[FileIdentity.firstLineHash(head)] {
            for id in ids.sorted() {
                guard let c = entries[id], c.fingerprintLength > head.count,
                    c.device != stat.device || c.inode != stat.inode
                else { continue }
                switch probe(id) {
                case .same: return copy(of: id)
                case .prefixOf(let size): return attached[id] != nil ? .extends(id, after: size) : .copy(id)
                case .different, .gone: continue
                }
            }
        }
        if let shared { return .sharedHead(shared) }
        return .new
    }

    public enum Match: Equatable, Sendable {
        /// The same file (device and inode), seen again.
        case resume(Int)
        /// Another file holding this entry's content (a rotated copy): it continues from the entry's offset, and
        /// if it is shorter it is a prefix of what was already read.
        case copy(Int)
        /// A copy of a file being read right now: everything in it comes from that file.
        case copyOfLive(Int)
        /// A copy of a file whose live stream found it truncated (logrotate `copytruncate`): it holds the lines that
        /// stream had not read (``CheckpointTable/truncated``), so the stream goes on in it.
        case copyOfTruncated(Int)
        /// The same file, now shorter than its checkpoint: truncated while not watched, read as a new file.
        case truncated(Int)
        /// A file that a file being read now is a shorter copy of: that one delivers the first `after` bytes,
        /// this one (with the same key) what follows.
        case extends(Int, after: UInt64)
        /// A different file that begins like this entry's (a shared banner): read as a new file.
        case sharedHead(Int)
        case new
    }
}
