/// The decisions of following files, apart from reading them: which files a scan found are new, renamed or settled;
/// which followed files the path no longer leads to (renamed away, deleted, replaced by rotation); when a drained
/// rotated file, or a gzip file that stopped growing inside a member, is let go; which retired files are settled.
///
/// It does no I/O of its own: what it needs to know about files it asks of a ``FileSystem`` (tests give a fake), and
/// time comes in as milliseconds of a monotonic clock (`now`), so every decision can be tested without files or
/// waiting. It knows nothing of checkpoints: which checkpoint a new file continues is `CheckpointTable.match`
/// (Checkpoints), which asks ``probe(_:stat:head:compressed:against:)`` for a look at another file. The engine keeps
/// one ``File`` per stream, runs the loop and carries out the decisions (opening readers, detaching, retiring).
public struct FileTracker {
    public struct Settings: Sendable, Equatable {
        /// A catch-up run: files are read once to their end, so every retired file is settled.
        public var once: Bool
        /// How long a detached (rotated away) file that gives nothing more is kept before it is let go.
        public var rotationGraceMillis: Int64
        /// How long a gzip file that ends inside a member may stay unchanged before it is taken as truncated.
        public var incompleteGzipMillis: Int64
        /// How often a ``File/watched`` file whose reader is closed is stat'ed between reads anyway (a safety net for
        /// what inotify misses); 0: at every look, like any other file.
        public var watchedPollMillis: Int64

        public init(
            once: Bool, rotationGraceMillis: Int64, incompleteGzipMillis: Int64, watchedPollMillis: Int64 = 0
        ) {
            self.once = once
            self.rotationGraceMillis = rotationGraceMillis
            self.incompleteGzipMillis = incompleteGzipMillis
            self.watchedPollMillis = watchedPollMillis
        }
    }

    /// One followed file, as the decisions need it; the engine's stream holds it and keeps it up to date.
    public struct File: Sendable, Equatable {
        public let id: Int
        /// Where the file was last seen (it follows renames).
        public var path: String
        public var device: UInt64
        public var inode: UInt64
        /// Read through gzip (``FileHead/isCompressed``).
        public var compressed: Bool
        /// The path no longer leads to this file (renamed away, deleted, truncated): read what is left, then retire.
        public var detached = false
        /// Nothing more will be read: the end of a gzip stream, damage, or a drained rotated file.
        public var exhausted = false
        /// A catch-up run gave up on it (it could not be read): not finished, whatever else it looks like.
        public var abandoned = false
        /// Its reader found it truncated: what its inode holds now is other content, which a scan finds as a file of
        /// its own wherever it is (``plan(_:known:following:)`` no longer takes it for this one).
        public var truncated = false
        /// Monotonic milliseconds of the last time the file gave new bytes (or was detached).
        public var lastGrowth: Int64
        /// Writes to it are reported by inotify (its directory is watched, its path is not a symbolic link): the
        /// caller marks it as having input when they are, so ``followUp(_:hasInput:reader:resumeOffset:now:since:)``
        /// stats it only every ``Settings/watchedPollMillis``.
        public var watched = false

        public init(id: Int, path: String, stat: FileStat, compressed: Bool, now: Int64) {
            self.id = id
            self.path = path
            self.device = stat.device
            self.inode = stat.inode
            self.compressed = compressed
            self.lastGrowth = now
        }

        public var identity: FileIdentity.FileID { FileIdentity.FileID(device: device, inode: inode) }

        /// Nothing more is expected at this path: exhausted, or detached (then drained). Retired once its lines are
        /// resolved and its reader closed.
        public var isFinished: Bool { exhausted || detached }

        /// Whether `stat` describes this file (the same device and inode).
        public func isSameFile(_ stat: FileStat) -> Bool { stat.device == device && stat.inode == inode }

        /// The file was found truncated, and its copy (logrotate `copytruncate`, found at `path`) holds what it had
        /// not read yet: it goes on in the copy, which its path leads to, and is no longer finished.
        public mutating func continueInCopy(path: String, stat: FileStat, compressed: Bool, now: Int64) {
            self.path = path
            device = stat.device
            inode = stat.inode
            self.compressed = compressed
            detached = false
            exhausted = false
            truncated = false
            lastGrowth = now
        }
    }

    /// A regular file a scan found at `path`; `source` is the caller's index of the source whose glob found it.
    public struct Found: Sendable, Equatable {
        public var path: String
        public var stat: FileStat
        public var source: Int

        public init(path: String, stat: FileStat, source: Int) {
            self.path = path
            self.stat = stat
            self.source = source
        }
    }

    /// What to do with a file a scan found.
    public enum Step: Sendable, Equatable {
        /// A followed file now has another name: it keeps its stream.
        case renamed(id: Int, from: String, to: String)
        /// A detached file still being read was found again at `to` (renamed, and the rename was not seen before
        /// its old path led elsewhere): the path leads to it again, so it keeps its stream and is no longer detached.
        case reattached(id: Int, from: String, to: String)
        /// Not followed: look at its head and find the checkpoint it continues (``inspect(_:)``, then the table).
        case identify(Found)
    }

    /// What the first look at a file gave.
    public enum Inspection: Sendable, Equatable {
        /// It could not be read; `report` is true the first time in a row (log it once, retry at the next scan).
        case unreadable(TailingError, report: Bool)
        /// Empty: nothing to read yet (looked at again at the next scan).
        case empty
        case ready(FileHead)
    }

    /// What a look at a followed file between reads decided.
    public enum FollowUp: Sendable, Equatable {
        case keep
        /// A gzip file that ends inside a member and has not grown for ``Settings/incompleteGzipMillis``: it is not
        /// being written, it is truncated; finish it (reporting the damage).
        case damagedGzip
        /// A detached file that gave nothing for ``Settings/rotationGraceMillis``: finish it.
        case drained
    }

    /// What the caller knows of a followed file's open reader.
    public struct ReaderState: Sendable, Equatable {
        /// The open file's size now (compressed size for gzip); `nil` when it cannot be examined.
        public var size: UInt64?
        /// Bytes of the file read so far.
        public var consumed: UInt64

        public init(size: UInt64?, consumed: UInt64) {
            self.size = size
            self.consumed = consumed
        }
    }

    /// A checkpoint entry's own file, for ``probe(_:stat:head:compressed:against:)``.
    public struct Original: Sendable, Equatable {
        /// Where the entry's file is now (its stream's path while it is followed, else the checkpoint's).
        public var path: String
        public var device: UInt64
        public var inode: UInt64
        public var fingerprint: Fingerprint
        public var compressed: Bool

        public init(path: String, device: UInt64, inode: UInt64, fingerprint: Fingerprint, compressed: Bool) {
            self.path = path
            self.device = device
            self.inode = inode
            self.fingerprint = fingerprint
            self.compressed = compressed
        }
    }

    public let settings: Settings
    public let fileSystem: any FileSystem
    /// Files known to hold nothing new while their stat stays the same (finished archives, copies already read,
    /// files a catch-up run read to the end).
    public private(set) var settled: [String: FileStat] = [:]
    /// Files that could not be read at the last look.
    public private(set) var unreadable = Set<String>()
    /// Copies of followed files already reported.
    private var announcedCopies = Set<String>()

    public init(settings: Settings, fileSystem: any FileSystem = LocalFileSystem()) {
        self.settings = settings
        self.fileSystem = fileSystem
    }

    // MARK: Discovery

    /// What to do with each file a scan found (`found` in name order, one entry per path). Files already known by
    /// device and inode (`known`: the checkpoints' files) come first, so that a renamed file takes its own checkpoint
    /// back before a copy of it (matched by content) could take it. A file a stream follows (not detached) keeps it,
    /// renamed if its name is no longer listed as leading to it; a settled file whose stat has not changed is skipped.
    ///
    /// A detached file is still its stream's until that stream is retired (its checkpoint entry stays attached to
    /// it), so it is never identified as a new file under another name: that would read it again from its start.
    /// A glob lists a directory, then stats the paths it found, and ``rotated(_:listed:)`` stats the followed files
    /// the listing did not find later still, so a file renamed in between (with a new file created at its old path)
    /// is detached although a glob still finds it: found again while it is being read, it is reattached under its
    /// new name; found again once it was read to its end (drained, or its reopened path led elsewhere), it is skipped
    /// until its stream is retired, and then resumes from its checkpoint. At its own path such a file is identified
    /// as before: it was truncated (its new content is new), or deleted and created again with the same inode. A file
    /// whose reader found it truncated is no longer its stream's under any name: written again and renamed, it is new.
    public func plan(_ found: [Found], known: Set<FileIdentity.FileID>, following: some Sequence<File>) -> [Step] {
        let isKnown = { (f: Found) in known.contains(FileIdentity.FileID(f.stat)) }
        let ordered = found.filter(isKnown) + found.filter { !isKnown($0) }
        var live: [FileIdentity.FileID: File] = [:]
        var detached: [FileIdentity.FileID: File] = [:]
        for file in following where !file.truncated {
            if file.detached { detached[file.identity] = file } else { live[file.identity] = file }
        }
        // What each listed path leads to: a file found under a second name (a symbolic or hard link) keeps the
        // name it is followed under while the listing still shows it there.
        var listed: [String: FileIdentity.FileID] = [:]
        for f in found { listed[f.path] = FileIdentity.FileID(f.stat) }
        var steps: [Step] = []
        for f in ordered {
            let identity = FileIdentity.FileID(f.stat)
            if let file = live[identity] {
                if file.path != f.path, listed[file.path] != identity {
                    steps.append(.renamed(id: file.id, from: file.path, to: f.path))
                    live[identity]?.path = f.path
                }
                continue
            }
            if var file = detached[identity], file.path != f.path {
                if file.exhausted { continue }
                steps.append(.reattached(id: file.id, from: file.path, to: f.path))
                file.path = f.path
                file.detached = false
                detached[identity] = nil
                live[identity] = file
                continue
            }
            if let known = settled[f.path], known == f.stat { continue }
            steps.append(.identify(f))
        }
        return steps
    }

    /// The first look at a file a scan found: its head (read once; the reader is opened with its decision).
    public mutating func inspect(_ path: String) -> Inspection {
        let head: FileHead
        do {
            head = try fileSystem.head(path)
        } catch {
            return .unreadable(error, report: unreadable.insert(path).inserted)
        }
        unreadable.remove(path)
        return head.bytes.isEmpty ? .empty : .ready(head)
    }

    /// The ids of followed files (not yet detached) that their path no longer leads to: renamed away, deleted, or
    /// replaced (rotate-create). They are detached: read to their end, then let go.
    ///
    /// `listed` is the scan's listing, after ``plan(_:known:following:)``'s renames were applied: a file it found
    /// (by device and inode) is at the path the listing saw it at, so it is not stat'ed a second time in the scan.
    public func rotated(_ files: some Sequence<File>, listed: [Found] = []) -> [Int] {
        let seen = Set(listed.lazy.map { FileIdentity.FileID($0.stat) })
        return files.filter { file in
            guard !file.detached, !seen.contains(file.identity) else { return false }
            guard let st = fileSystem.stat(file.path) else { return true }
            return !file.isSameFile(st)
        }.map(\.id)
    }

    /// Records a file as holding nothing new while its stat stays `stat`.
    public mutating func settle(_ path: String, _ stat: FileStat) {
        settled[path] = stat
    }

    /// Forgets what is known of paths the scan's listing (`found`) no longer shows: the caches above hold no more
    /// paths than the globs list, however many files come and go. A path listed again is looked at afresh.
    public mutating func forgetUnlisted(_ found: [Found]) {
        guard !settled.isEmpty || !unreadable.isEmpty || !announcedCopies.isEmpty else { return }
        let paths = Set(found.lazy.map(\.path))
        if settled.keys.contains(where: { !paths.contains($0) }) { settled = settled.filter { paths.contains($0.key) } }
        if unreadable.contains(where: { !paths.contains($0) }) { unreadable = unreadable.filter(paths.contains) }
        if announcedCopies.contains(where: { !paths.contains($0) }) {
            announcedCopies = announcedCopies.filter(paths.contains)
        }
    }

    /// Whether `path` is to be reported as a copy of a followed file (true the first time only).
    public mutating func announceCopy(_ path: String) -> Bool {
        announcedCopies.insert(path).inserted
    }

    // MARK: Identity

    /// Compares a newly seen file with a checkpoint entry's own file, where that still is (see
    /// ``FileIdentity/Probe``): `.gone` unless the original is at `original.path`, the same file, and still begins
    /// with its fingerprint; then their contents decide. Sizes are compared as plain sizes; a compressed file is
    /// inflated for a bounded look.
    public func probe(
        _ path: String, stat: FileStat, head: [UInt8], compressed: Bool, against original: Original
    ) -> FileIdentity.Probe {
        guard original.path != path, let other = fileSystem.stat(original.path), other.device == original.device,
            other.inode == original.inode, let otherHead = try? fileSystem.head(original.path).bytes,
            original.fingerprint.matches(prefixOf: otherHead)
        else { return .gone }
        let mine: UInt64? = compressed ? (head.count < Fingerprint.fullLength ? UInt64(head.count) : nil) : stat.size
        let theirs: UInt64? = original.compressed ? nil : other.size
        switch FileIdentity.sameContent(path, aSize: mine, original.path, bSize: theirs, in: fileSystem) {
        case true?:
            if let mine, let theirs, mine > theirs { return .prefixOf(size: theirs) }
            return .same
        case false?: return .different
        case nil: return .gone
        }
    }

    /// Where a file that a shorter followed copy is a prefix of continues: after the last line end within the
    /// first `after` bytes (looked for in the last 64 KiB of them), else from the start.
    public func continuation(of path: String, after: UInt64) -> UInt64 {
        let from = after > 65536 ? after - 65536 : 0
        let tail = (try? fileSystem.readRange(path, from: from, count: Int(after - from))) ?? []
        return tail.lastIndex(of: 0x0A).map { from + UInt64($0) + 1 } ?? 0
    }

    // MARK: Following

    /// Follow mode, between reads: whether `file` has input now (it grew, or shrank: the reader then reports the
    /// truncation; or it must be looked at), and whether it is to be finished. `reader` is its open reader's state,
    /// `resumeOffset` where a closed reader resumes. `previous` is when the caller last looked at its files: a
    /// ``File/watched`` file with a closed reader is stat'ed only when ``isSafetyLookDue(_:previous:now:)``.
    public func followUp(
        _ file: File, hasInput: Bool, reader: ReaderState?, resumeOffset: UInt64?, now: Int64,
        since previous: Int64? = nil
    ) -> (hasInput: Bool, action: FollowUp) {
        var hasInput = hasInput
        if let reader, let size = reader.size {
            if file.compressed || size != reader.consumed { hasInput = true }
        } else if resumeOffset != nil, file.watched, !file.detached, let previous,
            !isSafetyLookDue(file, previous: previous, now: now)
        {
            // Unchanged as far as inotify says; the caller marks it when it is written.
        } else if let resume = resumeOffset, let st = fileSystem.stat(file.path), file.isSameFile(st) {
            if st.size != resume { hasInput = true }
        } else {
            hasInput = true
        }
        if file.compressed, let reader, now - file.lastGrowth > settings.incompleteGzipMillis,
            reader.size == reader.consumed
        {
            return (hasInput, .damagedGzip)
        }
        if file.detached, !hasInput, now - file.lastGrowth > settings.rotationGraceMillis {
            return (hasInput, .drained)
        }
        return (hasInput, .keep)
    }

    /// The directory whose inotify watch reports writes to `path` under the same spelling (the directory + "/" + the
    /// name, as ``FileWatcher/Changes/written`` names them); `nil` when none does (no directory part, or `//`).
    public static func watchedDirectory(of path: String) -> String? {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")),
            path.utf8.index(after: slash) != path.utf8.endIndex
        else { return nil }
        if slash == path.utf8.startIndex { return "/" }
        guard path.utf8[path.utf8.index(before: slash)] != UInt8(ascii: "/") else { return nil }
        return String(path[..<slash])
    }

    /// Whether a watched file is stat'ed at a look at `now` after one at `previous`: once in every period of
    /// ``Settings/watchedPollMillis``, at a point of the period that depends on the file, so the looks at thousands
    /// of idle files are spread over the period instead of coming all at once.
    public func isSafetyLookDue(_ file: File, previous: Int64, now: Int64) -> Bool {
        let period = settings.watchedPollMillis
        guard period > 0, now >= previous else { return true }
        let phase = Int64(file.id % 65_521) * 7919 % period
        return (now + phase) / period != (previous + phase) / period
    }

    /// A followed file is let go (everything read and resolved): it is settled when nothing new can come from it
    /// at its path (a compressed file, or any file in a catch-up run, unless that run gave up on it). Returns what
    /// is at its path now.
    @discardableResult
    public mutating func retire(_ file: File) -> FileStat? {
        let st = fileSystem.stat(file.path)
        if !file.abandoned, let st, file.isSameFile(st), file.compressed || settings.once {
            settled[file.path] = st
        }
        return st
    }
}
