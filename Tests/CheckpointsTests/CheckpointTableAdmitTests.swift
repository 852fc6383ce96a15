import Checkpoints
import Tailing
import Testing

/// What the table does with a new file once it is matched: which entry it is read under, and from where.
@Suite struct CheckpointTableAdmitTests {
    static let long = Array(String(repeating: "{\"line\":\"of a log file that is long\"}\n", count: 40).utf8)
    static let head = Array(long.prefix(Fingerprint.fullLength))

    static func stat(_ inode: UInt64, size: UInt64) -> FileStat {
        FileStat(device: 1, inode: inode, size: size, modified: 0)
    }

    static func entry(
        inode: UInt64, offset: UInt64, compressed: Bool = false, finished: Bool = false,
        size: UInt64? = nil, key: String = "k7"
    ) -> FileCheckpoint {
        let fp = Fingerprint.of(head)
        return FileCheckpoint(
            fingerprint: fp.hash, fingerprintLength: fp.length, device: 1, inode: inode, path: "/l/app.log",
            offset: offset, size: size ?? offset, compressed: compressed, finished: finished, updatedAt: 0, key: key)
    }

    func admit(
        _ table: inout CheckpointTable, _ match: CheckpointTable.Match, path: String = "/l/app.log.1",
        inode: UInt64 = 8, size: UInt64 = 5000, compressed: Bool = false,
        fingerprint: Fingerprint = Fingerprint.of(head)
    ) -> CheckpointTable.Admission {
        table.admit(
            match, path: path, stat: Self.stat(inode, size: size), head: Self.head, fingerprint: fingerprint,
            compressed: compressed, updatedAt: 42
        ) { after in after - 10 }
    }

    @Test func aResumedFileTakesItsNewPlaceAndKeepsItsOffset() {
        var table = CheckpointTable([Self.entry(inode: 7, offset: 1500)])
        let short = Fingerprint.of(Self.head.prefix(100))
        table.update(0) {
            $0.fingerprint = short.hash
            $0.fingerprintLength = short.length
        }
        #expect(admit(&table, .resume(0), inode: 7) == .read(entry: 0, offset: 1500, created: false))
        let c = table.entries[0]!
        #expect(c.path == "/l/app.log.1" && c.inode == 7 && c.offset == 1500)
        #expect(c.fingerprintLength == Fingerprint.fullLength)  // grown with the file
        #expect(table.entries.count == 1)
    }

    /// copytruncate: the copy of a file whose stream found it truncated at 2400 is where that stream goes on: the
    /// entry (its key, and the checkpoint the stream's unresolved lines hold back) now names the copy.
    @Test func aCopyOfATruncatedFileIsWhereItsStreamGoesOn() {
        var table = CheckpointTable([Self.entry(inode: 7, offset: 1500)])
        table.attached[0] = 3
        table.noteTruncated(0, at: 2400)
        #expect(admit(&table, .copyOfTruncated(0), size: 5000) == .continues(entry: 0, offset: 2400))
        let c = table.entries[0]!
        #expect(c.inode == 8 && c.path == "/l/app.log.1" && c.offset == 1500 && c.key == "k7" && c.size == 5000)
        #expect(table.entries.count == 1 && table.truncated.isEmpty && table.attached[0] == 3)
        #expect(table.copies.isEmpty)
    }

    /// A copy no longer than what the stream handed out holds nothing new: it waits as a live copy, and is matched
    /// against the entry's checkpoint once the stream is done (then it was already read).
    @Test func aCopyOfATruncatedFileWithNothingUnreadWaits() {
        var table = CheckpointTable([Self.entry(inode: 7, offset: 1500)])
        table.attached[0] = 3
        table.noteTruncated(0, at: 2400)
        #expect(admit(&table, .copyOfTruncated(0), size: 2400) == .copyOfLive(of: 0))
        #expect(table.entries[0]!.inode == 7 && table.truncated == [0: 2400])
        #expect(table.copies[FileIdentity.FileID(device: 1, inode: 8)] == 0)
        table.update(0) { $0.offset = 2400 }
        table.release(0)
        #expect(admit(&table, .copy(0), size: 2000) == .alreadyRead(entry: 1, original: 0))
    }

    /// A compressed copy's plain size is not known: the stream goes on in it (reading nothing if it holds nothing).
    @Test func aCompressedCopyOfATruncatedFileIsWhereItsStreamGoesOn() {
        var table = CheckpointTable([Self.entry(inode: 7, offset: 1500)])
        table.attached[0] = 3
        table.noteTruncated(0, at: 2400)
        let admission = admit(&table, .copyOfTruncated(0), path: "/l/app.log.1.gz", size: 300, compressed: true)
        #expect(admission == .continues(entry: 0, offset: 2400))
        #expect(table.entries[0]!.compressed && table.entries[0]!.path == "/l/app.log.1.gz")
    }

    @Test func aRotatedCopyContinuesFromItsOriginalsOffset() {
        var table = CheckpointTable([Self.entry(inode: 7, offset: 1500)])
        #expect(admit(&table, .copy(0)) == .read(entry: 0, offset: 1500, created: false))
        #expect(table.entries[0]!.inode == 8)
    }

    /// copytruncate's copy, shorter than what was already read of the original: its own entry, the same key.
    @Test func aPlainCopyEndingBeforeTheCheckpointWasAlreadyRead() {
        var table = CheckpointTable([Self.entry(inode: 7, offset: 3000)])
        #expect(admit(&table, .copy(0), size: 2000) == .alreadyRead(entry: 1, original: 0))
        #expect(table.entries[0]!.offset == 3000 && table.entries[0]!.inode == 7)  // the original stays
        let copy = table.entries[1]!
        #expect(copy.key == "k7" && copy.offset == 2000 && copy.inode == 8)
        #expect(table.copies[FileIdentity.FileID(device: 1, inode: 8)] == 1)
        // Compressed, the sizes are not comparable: it is read (the reader skips to the offset).
        var other = CheckpointTable([Self.entry(inode: 7, offset: 3000)])
        #expect(admit(&other, .copy(0), size: 2000, compressed: true) == .read(entry: 0, offset: 3000, created: false))
    }

    @Test func aFinishedArchiveSeenAgainUnchangedIsNotRead() {
        var table = CheckpointTable([Self.entry(inode: 7, offset: 9000, compressed: true, finished: true, size: 2000)])
        #expect(admit(&table, .copy(0), path: "/l/app.log.2.gz", size: 2000, compressed: true) == .finishedArchive(0))
        #expect(table.entries[0]!.path == "/l/app.log.2.gz")
        // Changed size: read again from its offset, no longer finished.
        #expect(admit(&table, .copy(0), size: 2100, compressed: true) == .read(entry: 0, offset: 9000, created: false))
        #expect(table.entries[0]!.finished == false)
    }

    @Test func aCopyOfALiveFileIsNotedAndNotRead() {
        var table = CheckpointTable([Self.entry(inode: 7, offset: 3000)])
        table.attached[0] = 5
        #expect(admit(&table, .copyOfLive(0)) == .copyOfLive(of: 0))
        #expect(table.copies[FileIdentity.FileID(device: 1, inode: 8)] == 0)
        #expect(table.entries.count == 1)
    }

    @Test func theLongerOriginalOfALiveCopyContinuesAfterItUnderItsKey() {
        var table = CheckpointTable([Self.entry(inode: 7, offset: 1500)])
        #expect(admit(&table, .extends(0, after: 2000)) == .read(entry: 1, offset: 1990, created: true))
        #expect(table.entries[1]!.key == "k7" && table.entries[1]!.offset == 1990)
    }

    @Test(arguments: [CheckpointTable.Match.new, .truncated(0), .sharedHead(0)])
    func otherFilesGetANewEntryWithAKeyOfTheirOwn(match: CheckpointTable.Match) {
        var table = CheckpointTable([Self.entry(inode: 7, offset: 1500, key: Fingerprint.of(Self.head).hash)])
        #expect(admit(&table, match, inode: 7) == .read(entry: 1, offset: 0, created: true))
        let c = table.entries[1]!
        #expect(c.offset == 0 && c.updatedAt == 42 && c.key != table.entries[0]!.key)
        #expect(table.entries[0]!.offset == 1500)  // the old entry is left as it was
    }
}
