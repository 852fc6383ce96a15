import Testing

@testable import Tailing

/// A file system in memory: paths lead to files (device 1, an inode each); a gzip file answers with its content
/// decompressed, as the real one does.
final class FakeFileSystem: FileSystem {
    struct Node {
        var inode: UInt64
        var content: [UInt8]
        var gzip = false
        var modified: Int64 = 0

        var stat: FileStat {
            // A compressed file's size is smaller than its content (any fixed ratio will do here).
            FileStat(
                device: 1, inode: inode, size: UInt64(gzip ? content.count / 3 + 20 : content.count), modified: modified
            )
        }
    }

    var paths: [String: Node] = [:]
    var unreadable = Set<String>()
    /// Calls of ``stat(_:)``, to count the look-ups a decision costs.
    private(set) var statCalls = 0
    private var nextInode: UInt64 = 100

    func stat(_ path: String) -> FileStat? {
        statCalls += 1
        return paths[path]?.stat
    }

    func head(_ path: String) throws(TailingError) -> FileHead {
        guard let node = paths[path], !unreadable.contains(path) else {
            throw TailingError(path: path, message: "cannot open it", errno: 13)
        }
        return FileHead(bytes: Array(node.content.prefix(Fingerprint.fullLength)), isCompressed: node.gzip)
    }

    func readRange(_ path: String, from: UInt64, count: Int) throws(TailingError) -> [UInt8] {
        guard let node = paths[path], !unreadable.contains(path) else {
            throw TailingError(path: path, message: "cannot open it", errno: 2)
        }
        let start = min(Int(from), node.content.count)
        return Array(node.content[start..<min(start + count, node.content.count)])
    }

    /// Creates `path` as a new file (a new inode), replacing what was there.
    @discardableResult
    func create(_ path: String, _ text: String, gzip: Bool = false) -> FileStat {
        nextInode += 1
        paths[path] = Node(inode: nextInode, content: Array(text.utf8), gzip: gzip)
        return paths[path]!.stat
    }

    func append(_ path: String, _ text: String) {
        paths[path]!.content += Array(text.utf8)
        paths[path]!.modified += 1
    }

    func truncate(_ path: String) {
        paths[path]!.content = []
        paths[path]!.modified += 1
    }

    func rename(_ from: String, _ to: String) { paths[to] = paths.removeValue(forKey: from) }

    func remove(_ path: String) { paths[path] = nil }

    /// A copy under a new inode (logrotate `copy`/`copytruncate`), optionally compressed.
    func copy(_ from: String, _ to: String, gzip: Bool = false) {
        nextInode += 1
        paths[to] = Node(inode: nextInode, content: paths[from]!.content, gzip: gzip)
    }

    func found(_ path: String, source: Int = 0) -> FileTracker.Found {
        FileTracker.Found(path: path, stat: stat(path)!, source: source)
    }

    /// What a scan finds: every path in name order.
    func scan() -> [FileTracker.Found] { paths.keys.sorted().map { found($0) } }
}

/// ``FileTracker`` driven with a fake file system and a clock the test moves: rename, rotation, truncation, copies,
/// deletion, the rotation grace, settled and unreadable files.
@Suite struct FileTrackerTests {
    static let grace: Int64 = 2000
    static let gzipStall: Int64 = 60_000
    static let lines = (1...40).map { "{\"n\":\($0),\"pad\":\"........................\"}\n" }.joined()  // > 1 KiB

    let fs = FakeFileSystem()
    /// The injected clock: monotonic milliseconds, moved by the test.
    let clock: Int64 = 10_000

    func tracker(once: Bool = false) -> FileTracker {
        FileTracker(
            settings: FileTracker.Settings(
                once: once, rotationGraceMillis: Self.grace, incompleteGzipMillis: Self.gzipStall),
            fileSystem: fs)
    }

    /// A followed file, as the engine makes it after ``FileTracker/inspect(_:)`` said `.ready`.
    func follow(_ path: String, id: Int = 0) -> FileTracker.File {
        FileTracker.File(id: id, path: path, stat: fs.stat(path)!, compressed: fs.paths[path]!.gzip, now: clock)
    }

    /// Applies a plan's renames the way the engine does, and returns the paths to identify.
    func apply(_ steps: [FileTracker.Step], to files: inout [FileTracker.File]) -> [String] {
        var identify: [String] = []
        for step in steps {
            switch step {
            case .renamed(let id, _, let to): files[files.firstIndex { $0.id == id }!].path = to
            case .reattached(let id, _, let to):
                files[files.firstIndex { $0.id == id }!].path = to
                files[files.firstIndex { $0.id == id }!].detached = false
            case .identify(let f): identify.append(f.path)
            }
        }
        return identify
    }

    @Test func aNewFileIsIdentifiedAndAFollowedOneIsNot() {
        let t = tracker()
        fs.create("/l/app.log", Self.lines)
        #expect(t.plan(fs.scan(), known: [], following: []) == [.identify(fs.found("/l/app.log"))])
        let file = follow("/l/app.log")
        fs.append("/l/app.log", "{\"n\":41}\n")
        #expect(t.plan(fs.scan(), known: [file.identity], following: [file]).isEmpty)
        #expect(t.rotated([file]).isEmpty)
    }

    @Test func aRenamedFileKeepsItsStream() {
        let t = tracker()
        fs.create("/l/app.log", Self.lines)
        var files = [follow("/l/app.log", id: 3)]
        fs.rename("/l/app.log", "/l/app.log.1")
        let steps = t.plan(fs.scan(), known: [files[0].identity], following: files)
        #expect(steps == [.renamed(id: 3, from: "/l/app.log", to: "/l/app.log.1")])
        #expect(apply(steps, to: &files).isEmpty)
        #expect(t.rotated(files).isEmpty)  // the path it has now leads to it
    }

    /// A followed file a glob also finds under a second name (a symbolic link such as `current.log`, a hard link)
    /// keeps the name it is followed under while that still leads to it: no rename back and forth at every scan.
    @Test func aFileListedUnderTwoNamesKeepsTheOneItIsFollowedUnder() {
        let t = tracker()
        fs.create("/l/app.log", Self.lines)
        var files = [follow("/l/app.log")]
        let link = FileTracker.Found(path: "/l/current.log", stat: fs.stat("/l/app.log")!, source: 0)
        #expect(t.plan(fs.scan() + [link], known: [files[0].identity], following: files).isEmpty)
        // Once the followed name is gone, the other one takes over.
        fs.rename("/l/app.log", "/l/app.log.1")
        let moved = FileTracker.Found(path: "/l/current.log", stat: fs.stat("/l/app.log.1")!, source: 0)
        let steps = t.plan(fs.scan() + [moved], known: [files[0].identity], following: files)
        #expect(steps == [.renamed(id: 0, from: "/l/app.log", to: "/l/app.log.1")])
        #expect(apply(steps, to: &files).isEmpty)
        #expect(t.plan(fs.scan() + [moved], known: [files[0].identity], following: files).isEmpty)
    }

    @Test func renamedAwayAndBackIsTheSameStream() {
        let t = tracker()
        fs.create("/l/app.log", Self.lines)
        var files = [follow("/l/app.log")]
        fs.rename("/l/app.log", "/l/app.log.tmp")
        _ = apply(t.plan(fs.scan(), known: [files[0].identity], following: files), to: &files)
        fs.rename("/l/app.log.tmp", "/l/app.log")
        let steps = t.plan(fs.scan(), known: [files[0].identity], following: files)
        #expect(steps == [.renamed(id: 0, from: "/l/app.log.tmp", to: "/l/app.log")])
        #expect(apply(steps, to: &files).isEmpty)
        #expect(files[0].path == "/l/app.log" && !files[0].detached)
    }

    /// logrotate `create`: the followed file is renamed and a new one takes its name. The known file (renamed)
    /// comes first, so it takes its stream back before the new file is identified.
    @Test func rotateCreateRenamesTheOldFileAndIdentifiesTheNewOne() {
        let t = tracker()
        fs.create("/l/app.log", Self.lines)
        var files = [follow("/l/app.log")]
        fs.rename("/l/app.log", "/l/app.log.1")
        fs.create("/l/app.log", "{\"n\":1000}\n")
        let steps = t.plan(fs.scan(), known: [files[0].identity], following: files)
        #expect(
            steps == [
                .renamed(id: 0, from: "/l/app.log", to: "/l/app.log.1"), .identify(fs.found("/l/app.log")),
            ])
        #expect(apply(steps, to: &files) == ["/l/app.log"])
        #expect(t.rotated(files).isEmpty)
    }

    /// logrotate `create` between a scan's glob listing and its look at the followed paths
    /// (``FileTracker/rotated(_:listed:)``): the listing still showed `app.log` as the followed file, then the path
    /// led to the new file, so the old one was detached although it is now `app.log.1`. The next scan finds it there:
    /// it keeps its stream (reattached), and is not identified as a new file (its checkpoint entry is still attached
    /// to the stream, so the table would call it new and it would be read again from its start: the 70 duplicates
    /// once seen under ThreadSanitizer).
    @Test func aFileDetachedBeforeItsRenameWasSeenIsReattached() {
        let t = tracker()
        fs.create("/l/app.log", Self.lines)
        var files = [follow("/l/app.log")]
        let listing = fs.scan()  // the glob listing, before the rotation
        fs.rename("/l/app.log", "/l/app.log.1")
        fs.append("/l/app.log.1", "{\"n\":41}\n")  // the writer still holds it
        fs.create("/l/app.log", "{\"n\":1000}\n")
        #expect(t.plan(listing, known: [files[0].identity], following: files).isEmpty)
        #expect(t.rotated(files) == [0])
        files[0].detached = true
        let steps = t.plan(fs.scan(), known: [files[0].identity], following: files)
        #expect(
            steps == [
                .reattached(id: 0, from: "/l/app.log", to: "/l/app.log.1"), .identify(fs.found("/l/app.log")),
            ])
        #expect(apply(steps, to: &files) == ["/l/app.log"])
        #expect(files[0].path == "/l/app.log.1" && !files[0].detached)
        #expect(t.rotated(files).isEmpty)
        #expect(t.plan(fs.scan(), known: [files[0].identity], following: files) == [.identify(fs.found("/l/app.log"))])
    }

    /// A followed file the scan's listing found (by device and inode) is where the listing saw it:
    /// ``FileTracker/rotated(_:listed:)`` does not stat it again; one the listing did not find is still looked at.
    @Test func aFollowedFileTheListingFoundIsNotStatedAgain() {
        let t = tracker()
        fs.create("/l/app.log", Self.lines)
        fs.create("/l/other.log", Self.lines)
        let files = [follow("/l/app.log"), follow("/l/other.log", id: 1)]
        let listing = fs.scan()
        let before = fs.statCalls
        #expect(t.rotated(files, listed: listing).isEmpty)
        #expect(fs.statCalls == before)
        fs.remove("/l/other.log")
        #expect(t.rotated(files, listed: fs.scan()) == [1])
    }

    /// The same, found only once the detached file was read to its end (drained) while its last lines are still
    /// unresolved: it is skipped until its stream is retired (then the checkpoint table resumes it by device and
    /// inode); at its own path a detached, finished file is identified as before (truncated: its content is new).
    @Test func aFinishedDetachedFileIsNotIdentifiedUnderAnotherName() {
        let t = tracker()
        fs.create("/l/app.log", Self.lines)
        var file = follow("/l/app.log")
        fs.rename("/l/app.log", "/l/app.log.1")
        fs.create("/l/app.log", "{\"n\":1000}\n")
        file.detached = true
        file.exhausted = true
        #expect(t.plan(fs.scan(), known: [file.identity], following: [file]) == [.identify(fs.found("/l/app.log"))])
        #expect(t.plan(fs.scan(), known: [file.identity], following: []).count == 2)  // retired: looked at again
        fs.rename("/l/app.log.1", "/l/app.log")
        fs.truncate("/l/app.log")
        fs.append("/l/app.log", "{\"n\":2000}\n")
        #expect(t.plan(fs.scan(), known: [file.identity], following: [file]) == [.identify(fs.found("/l/app.log"))])
    }

    /// A rotation the scan did not see as a rename (the old file is gone from the globs): the path leads to another
    /// file, so the stream is detached, drained, and let go after the grace.
    @Test func aFileReplacedUnderItsPathIsDetachedAndDrainedAfterTheGrace() {
        var t = tracker()
        fs.create("/l/app.log", Self.lines)
        var file = follow("/l/app.log")
        fs.rename("/l/app.log", "/archive/app.log.1")  // outside the globs
        fs.create("/l/app.log", "{\"n\":1000}\n")
        #expect(t.rotated([file]) == [0])
        file.detached = true
        file.lastGrowth = clock
        #expect(t.rotated([file]).isEmpty)  // detached once
        let drained = FileTracker.ReaderState(size: 2000, consumed: 2000)
        var now = clock + Self.grace
        #expect(
            t.followUp(file, hasInput: false, reader: drained, resumeOffset: nil, now: now) == (
                false, FileTracker.FollowUp.keep
            ))
        // Still growing (a writer kept it open): it has input, and is not let go.
        let growing = FileTracker.ReaderState(size: 2100, consumed: 2000)
        now += 1
        #expect(
            t.followUp(file, hasInput: false, reader: growing, resumeOffset: nil, now: now) == (
                true, FileTracker.FollowUp.keep
            ))
        #expect(
            t.followUp(file, hasInput: false, reader: drained, resumeOffset: nil, now: now) == (
                false, FileTracker.FollowUp.drained
            ))
        // Not detached: a quiet file is kept however long it stays quiet.
        file.detached = false
        #expect(t.followUp(file, hasInput: false, reader: drained, resumeOffset: nil, now: now + 1_000_000).1 == .keep)
        t.retire(file)
        #expect(t.settled.isEmpty)  // a plain file in follow mode may grow again
    }

    @Test func deletedWhileReadingIsDetachedAndReadToItsEnd() {
        let t = tracker()
        fs.create("/l/app.log", Self.lines)
        var file = follow("/l/app.log")
        fs.remove("/l/app.log")
        #expect(t.plan(fs.scan(), known: [file.identity], following: [file]).isEmpty)
        #expect(t.rotated([file]) == [0])
        file.detached = true
        // The open reader still has bytes to give: it keeps reading past the grace.
        let unread = FileTracker.ReaderState(size: 2000, consumed: 1000)
        let r = t.followUp(file, hasInput: false, reader: unread, resumeOffset: nil, now: clock + 10 * Self.grace)
        #expect(r == (true, FileTracker.FollowUp.keep))
    }

    /// copytruncate: the copy is a new file to identify (the checkpoint table finds it a copy of the live one,
    /// reported once); the live file keeps its inode, so it is not detached; its reader sees it shrink.
    @Test func copytruncateIdentifiesTheCopyAndKeepsTheOriginal() {
        var t = tracker()
        fs.create("/l/app.log", Self.lines)
        let file = follow("/l/app.log")
        fs.copy("/l/app.log", "/l/app.log.1")
        fs.truncate("/l/app.log")
        let steps = t.plan(fs.scan(), known: [file.identity], following: [file])
        #expect(steps == [.identify(fs.found("/l/app.log.1"))])
        #expect(t.rotated([file]).isEmpty)
        let shrunk = FileTracker.ReaderState(size: 0, consumed: UInt64(Self.lines.utf8.count))
        #expect(t.followUp(file, hasInput: false, reader: shrunk, resumeOffset: nil, now: clock).0)
        let first = t.announceCopy("/l/app.log.1")
        let again = t.announceCopy("/l/app.log.1")
        #expect(first && !again)
    }

    /// copytruncate, once the reader found the live file truncated (detached, exhausted): the file goes on in its
    /// copy, which the scan after finds followed (not identified again) and the rotation check leaves alone.
    @Test func aTruncatedFileGoesOnInItsCopy() {
        let t = tracker()
        fs.create("/l/app.log", Self.lines)
        var file = follow("/l/app.log")
        fs.copy("/l/app.log", "/l/app.log.1")
        fs.truncate("/l/app.log")
        file.detached = true
        file.exhausted = true
        let copy = fs.found("/l/app.log.1")
        file.continueInCopy(path: copy.path, stat: copy.stat, compressed: false, now: clock + 5)
        #expect(file.path == "/l/app.log.1" && file.isSameFile(copy.stat) && !file.isFinished)
        #expect(file.lastGrowth == clock + 5)
        // The copy is followed; the truncated original is looked at as any file (empty now, new content later).
        #expect(t.plan(fs.scan(), known: [file.identity], following: [file]) == [.identify(fs.found("/l/app.log"))])
        #expect(t.rotated([file], listed: fs.scan()).isEmpty)
    }

    /// A file its reader found truncated, written again and renamed before a scan saw it: its inode holds new
    /// content, identified as a file of its own (not skipped as the truncated stream's detached file).
    @Test func aTruncatedFileWrittenAgainAndRenamedIsIdentified() {
        let t = tracker()
        fs.create("/l/app.log", Self.lines)
        var file = follow("/l/app.log")
        fs.truncate("/l/app.log")
        fs.append("/l/app.log", "{\"new\":1}\n")
        fs.rename("/l/app.log", "/l/app.log.1")
        file.detached = true
        file.exhausted = true
        #expect(t.plan(fs.scan(), known: [file.identity], following: [file]) == [])  // skipped while it is the stream's
        file.truncated = true
        #expect(t.plan(fs.scan(), known: [file.identity], following: [file]) == [.identify(fs.found("/l/app.log.1"))])
    }

    /// A plain truncation noticed with the reader closed (open-file cap): the size differs from where reading
    /// resumes, so the file is looked at (and the reader, reopened, reports the truncation).
    @Test func truncationWithTheReaderClosedIsNoticed() {
        let t = tracker()
        fs.create("/l/app.log", Self.lines)
        let file = follow("/l/app.log")
        let end = UInt64(Self.lines.utf8.count)
        #expect(
            t.followUp(file, hasInput: false, reader: nil, resumeOffset: end, now: clock) == (
                false, FileTracker.FollowUp.keep
            ))
        fs.truncate("/l/app.log")
        #expect(
            t.followUp(file, hasInput: false, reader: nil, resumeOffset: end, now: clock) == (
                true, FileTracker.FollowUp.keep
            ))
        // Replaced under the path: looked at too (the reopened reader is found to be another file).
        fs.create("/l/app.log", Self.lines)
        #expect(
            t.followUp(file, hasInput: false, reader: nil, resumeOffset: end, now: clock) == (
                true, FileTracker.FollowUp.keep
            ))
    }

    /// A file inotify watches, its reader closed: between reads its path is stat'ed once per safety period (at a point
    /// of the period that depends on the file), not at every look; what it finds then is what an unwatched file
    /// shows at once. An unwatched, or a detached, file is stat'ed at every look.
    @Test func aWatchedClosedFileIsStatedOncePerSafetyPeriod() {
        let period: Int64 = 10_000
        let t = FileTracker(
            settings: FileTracker.Settings(
                once: false, rotationGraceMillis: Self.grace, incompleteGzipMillis: Self.gzipStall,
                watchedPollMillis: period),
            fileSystem: fs)
        fs.create("/l/app.log", Self.lines)
        let end = UInt64(Self.lines.utf8.count)
        var watched = follow("/l/app.log", id: 3)
        watched.watched = true
        fs.append("/l/app.log", "{\"n\":41}\n")
        // Looks every 250 ms over three periods: three stats, each of which finds the growth.
        var previous = clock
        var found = 0
        let before = fs.statCalls
        for step in 1...(3 * period / 250) {
            let now = clock + step * 250
            let r = t.followUp(watched, hasInput: false, reader: nil, resumeOffset: end, now: now, since: previous)
            #expect(r.action == .keep)
            if r.hasInput {
                found += 1
                #expect(t.isSafetyLookDue(watched, previous: previous, now: now))
            }
            previous = now
        }
        #expect(fs.statCalls - before == 3)
        #expect(found == 3)
        // Without `since`, or unwatched, or detached: every look stats.
        #expect(t.followUp(watched, hasInput: false, reader: nil, resumeOffset: end, now: previous + 1).hasInput)
        var plain = watched
        plain.watched = false
        #expect(
            t.followUp(plain, hasInput: false, reader: nil, resumeOffset: end, now: previous + 1, since: previous)
                .hasInput)
        var detached = watched
        detached.detached = true
        let calls = fs.statCalls
        _ = t.followUp(detached, hasInput: false, reader: nil, resumeOffset: end, now: previous + 1, since: previous)
        #expect(fs.statCalls == calls + 1)
        // A skipped look keeps what the caller knows (inotify marked it): input stays input.
        if !t.isSafetyLookDue(watched, previous: previous, now: previous + 1) {
            #expect(
                t.followUp(watched, hasInput: true, reader: nil, resumeOffset: end, now: previous + 1, since: previous)
                    == (true, FileTracker.FollowUp.keep))
        }
        // Thousands of files are spread over the period, not looked at all in one step.
        let files = (0..<1000).map { id -> FileTracker.File in
            var f = follow("/l/app.log", id: id)
            f.watched = true
            return f
        }
        var busiest = 0
        for step in 1...(period / 250) {
            let now = clock + step * 250
            busiest = max(busiest, files.filter { t.isSafetyLookDue($0, previous: now - 250, now: now) }.count)
        }
        #expect(busiest < 100)
    }

    /// The directory whose watch names a path as inotify does (directory + "/" + name); none when that spelling
    /// would differ (then the file is polled).
    @Test func watchedDirectoryOfAPath() {
        #expect(FileTracker.watchedDirectory(of: "/var/log/app.log") == "/var/log")
        #expect(FileTracker.watchedDirectory(of: "/app.log") == "/")
        #expect(FileTracker.watchedDirectory(of: "logs/app.log") == "logs")
        #expect(FileTracker.watchedDirectory(of: "app.log") == nil)
        #expect(FileTracker.watchedDirectory(of: "/var/log//app.log") == nil)
        #expect(FileTracker.watchedDirectory(of: "/var/log/") == nil)
    }

    /// Rotated, then compressed (`app.log.1` → `app.log.1.gz`): the `.gz` is identified, its head decompressed and
    /// marked compressed; compared with the entry's file (gone), it is its rotated copy.
    @Test func rotatedToGzipIsIdentifiedAsACompressedCopy() throws {
        var t = tracker()
        fs.create("/l/app.log", Self.lines)
        var files = [follow("/l/app.log")]
        let fingerprint = Fingerprint.of(Array(Self.lines.utf8.prefix(Fingerprint.fullLength)))
        fs.rename("/l/app.log", "/l/app.log.1")
        _ = apply(t.plan(fs.scan(), known: [files[0].identity], following: files), to: &files)
        fs.copy("/l/app.log.1", "/l/app.log.1.gz", gzip: true)
        fs.remove("/l/app.log.1")
        let steps = t.plan(fs.scan(), known: [files[0].identity], following: files)
        #expect(steps == [.identify(fs.found("/l/app.log.1.gz"))])
        #expect(t.rotated(files) == [0])
        guard case .ready(let head) = t.inspect("/l/app.log.1.gz") else {
            Issue.record("the .gz was not readable")
            return
        }
        #expect(head.isCompressed)
        #expect(head.fingerprint == fingerprint)
        let original = FileTracker.Original(
            path: files[0].path, device: 1, inode: files[0].inode, fingerprint: fingerprint, compressed: false)
        let gz = try #require(fs.stat("/l/app.log.1.gz"))
        #expect(t.probe("/l/app.log.1.gz", stat: gz, head: head.bytes, compressed: true, against: original) == .gone)
    }

    /// A gzip file that ends inside a member and stops growing is not being written: after the stall it is finished
    /// (reported damaged); a finished one is settled when retired, and skipped until its stat changes.
    @Test func aStalledGzipIsFinishedAndARetiredOneIsSettled() {
        var t = tracker()
        fs.create("/l/old.log.gz", Self.lines, gzip: true)
        let file = follow("/l/old.log.gz")
        #expect(file.compressed)
        let size = fs.stat("/l/old.log.gz")!.size
        let stopped = FileTracker.ReaderState(size: size, consumed: size)
        #expect(
            t.followUp(file, hasInput: false, reader: stopped, resumeOffset: nil, now: clock + Self.gzipStall).1
                == .keep)
        let r = t.followUp(file, hasInput: false, reader: stopped, resumeOffset: nil, now: clock + Self.gzipStall + 1)
        #expect(r == (true, FileTracker.FollowUp.damagedGzip))  // a compressed reader always has input to look at
        let retired = t.retire(file)
        #expect(retired == fs.stat("/l/old.log.gz"))
        #expect(t.settled["/l/old.log.gz"] == fs.stat("/l/old.log.gz"))
        #expect(t.plan(fs.scan(), known: [file.identity], following: []).isEmpty)
        fs.append("/l/old.log.gz", "{\"n\":41}\n")  // changed: looked at again
        #expect(t.plan(fs.scan(), known: [file.identity], following: []) == [.identify(fs.found("/l/old.log.gz"))])
    }

    /// A catch-up run settles every file it read to the end, but not one it gave up on or that was replaced.
    @Test func catchUpSettlesWhatItFinished() {
        var t = tracker(once: true)
        fs.create("/l/a.log", Self.lines)
        fs.create("/l/b.log", Self.lines)
        fs.create("/l/c.log", Self.lines)
        let a = follow("/l/a.log", id: 0)
        var b = follow("/l/b.log", id: 1)
        let c = follow("/l/c.log", id: 2)
        b.abandoned = true
        fs.create("/l/c.log", "{\"n\":1}\n")
        t.retire(a)
        t.retire(b)
        let atC = t.retire(c)
        #expect(atC == fs.stat("/l/c.log"))
        #expect(Set(t.settled.keys) == ["/l/a.log"])
        #expect(
            t.plan(fs.scan(), known: [], following: []).map { if case .identify(let f) = $0 { f.path } else { "" } }
                == ["/l/b.log", "/l/c.log"])
    }

    @Test func unreadableIsReportedOnceUntilItIsReadable() {
        var t = tracker()
        fs.create("/l/app.log", Self.lines)
        fs.unreadable.insert("/l/app.log")
        guard case .unreadable(let error, true) = t.inspect("/l/app.log") else {
            Issue.record("not reported")
            return
        }
        #expect(error.path == "/l/app.log")
        guard case .unreadable(_, false) = t.inspect("/l/app.log") else {
            Issue.record("reported twice")
            return
        }
        #expect(t.unreadable == ["/l/app.log"])
        fs.unreadable.remove("/l/app.log")
        let readable = t.inspect("/l/app.log")
        #expect(readable == .ready(FileHead(bytes: Array(Self.lines.utf8.prefix(1024)), isCompressed: false)))
        #expect(t.unreadable.isEmpty)
        fs.unreadable.insert("/l/app.log")
        guard case .unreadable(_, true) = t.inspect("/l/app.log") else {
            Issue.record("not reported again after it was readable")
            return
        }
    }

    /// Settled, unreadable and announced paths are kept only while the listing shows them: files that come and go
    /// (a node's container logs, archives deleted by retention) leave nothing behind.
    @Test func pathsNoLongerListedAreForgotten() {
        var t = tracker(once: true)
        fs.create("/l/a.log", Self.lines)
        fs.create("/l/b.log", Self.lines)
        fs.create("/l/c.log", Self.lines)
        t.retire(follow("/l/a.log", id: 0))
        t.retire(follow("/l/b.log", id: 1))
        fs.unreadable.insert("/l/c.log")
        _ = t.inspect("/l/c.log")
        let first = t.announceCopy("/l/b.log")
        #expect(first)
        t.forgetUnlisted(fs.scan())
        let again = t.announceCopy("/l/b.log")
        #expect(!again)  // still listed: remembered
        #expect(Set(t.settled.keys) == ["/l/a.log", "/l/b.log"])
        #expect(t.unreadable == ["/l/c.log"])
        fs.paths["/l/b.log"] = nil
        fs.paths["/l/c.log"] = nil
        t.forgetUnlisted(fs.scan())
        #expect(Set(t.settled.keys) == ["/l/a.log"])
        #expect(t.unreadable.isEmpty)
        let afresh = t.announceCopy("/l/b.log")
        #expect(afresh)  // a path listed again is reported again
    }

    @Test func anEmptyFileWaits() {
        var t = tracker()
        fs.create("/l/app.log", "")
        let empty = t.inspect("/l/app.log")
        #expect(empty == .empty)
        #expect(t.unreadable.isEmpty)
    }

    /// The look at an entry's own file that tells a copy from a file that only shares a head.
    @Test func probeComparesWithTheOriginalWhereItStillIs() throws {
        let t = tracker()
        let banner = String(repeating: "#", count: 1100) + "\n"
        fs.create("/l/a.log", banner + "{\"n\":1}\n")
        let a = try #require(fs.stat("/l/a.log"))
        let original = FileTracker.Original(
            path: "/l/a.log", device: 1, inode: a.inode, fingerprint: Fingerprint.of(Array(banner.utf8.prefix(1024))),
            compressed: false)
        func probe(_ path: String) throws -> FileIdentity.Probe {
            let st = try #require(fs.stat(path))
            return t.probe(path, stat: st, head: try fs.head(path).bytes, compressed: false, against: original)
        }
        fs.copy("/l/a.log", "/l/copy.log")
        #expect(try probe("/l/copy.log") == .same)
        fs.create("/l/other.log", banner + "{\"n\":2}\n")
        #expect(try probe("/l/other.log") == .different)
        fs.create("/l/longer.log", banner + "{\"n\":1}\n{\"n\":2}\n")
        #expect(try probe("/l/longer.log") == .prefixOf(size: a.size))
        #expect(t.probe("/l/a.log", stat: a, head: [], compressed: false, against: original) == .gone)  // itself
        fs.truncate("/l/a.log")  // no longer begins with what was read
        #expect(try probe("/l/copy.log") == .gone)
        fs.remove("/l/a.log")
        #expect(try probe("/l/copy.log") == .gone)
    }

    @Test func aLongerOriginalContinuesAfterTheLastLineEndOfTheCopy() {
        let t = tracker()
        fs.create("/l/long.log", "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n")
        #expect(t.continuation(of: "/l/long.log", after: 16) == 16)
        #expect(t.continuation(of: "/l/long.log", after: 12) == 8)  // a copy cut inside a line
        #expect(t.continuation(of: "/l/long.log", after: 5) == 0)
        #expect(t.continuation(of: "/l/missing.log", after: 16) == 0)
    }

    /// Three names of one file (hard links): the stream keeps the name it follows while the listing shows it; once
    /// that name is gone, the first other name listed takes over.
    @Test func otherNamesOfAFollowedFileDoNotRenameIt() {
        let t = tracker()
        fs.create("/l/a.log", Self.lines)
        let file = follow("/l/a.log")
        fs.paths["/l/b.log"] = fs.paths["/l/a.log"]
        fs.paths["/l/c.log"] = fs.paths["/l/a.log"]
        #expect(t.plan(fs.scan(), known: [file.identity], following: [file]).isEmpty)
        fs.remove("/l/a.log")
        #expect(
            t.plan(fs.scan(), known: [file.identity], following: [file]) == [
                .renamed(id: 0, from: "/l/a.log", to: "/l/b.log")
            ])
    }
}
