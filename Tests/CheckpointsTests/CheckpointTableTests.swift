import Checkpoints
import Tailing
import Testing

/// The identity decision, driven without files: heads, stats and probe answers are given.
@Suite struct CheckpointTableTests {
    static func head(_ text: String) -> [UInt8] { Array(text.utf8) }
    static let long = head(String(repeating: "{\"banner\":\"shared by several files\"}\n", count: 40))  // > 1 KiB

    static func stat(_ inode: UInt64, size: UInt64) -> FileStat {
        FileStat(device: 1, inode: inode, size: size, modified: 0)
    }

    static func entry(_ head: [UInt8], inode: UInt64, offset: UInt64, path: String = "/l/app.log") -> FileCheckpoint {
        let fp = Fingerprint.of(head.prefix(Fingerprint.fullLength))
        return FileCheckpoint(
            fingerprint: fp.hash, fingerprintLength: fp.length, device: 1, inode: inode, path: path, offset: offset,
            size: offset, compressed: false, updatedAt: 0)
    }

    func match(
        _ table: CheckpointTable, _ head: [UInt8], inode: UInt64, size: UInt64,
        probe: FileIdentity.Probe = .gone
    ) -> CheckpointTable.Match {
        let h = Array(head.prefix(Fingerprint.fullLength))
        return table.match(
            head: h, fingerprint: Fingerprint.of(h), stat: Self.stat(inode, size: size), compressed: false
        ) {
            _ in probe
        }
    }

    @Test func sameInodeIsTheSameFile() {
        let table = CheckpointTable([Self.entry(Self.long, inode: 7, offset: 500)])
        #expect(match(table, Self.long, inode: 7, size: 2000) == .resume(0))
    }

    @Test func sameInodeShorterThanItsCheckpointIsANewFileInTheSamePlace() {
        let table = CheckpointTable([Self.entry(Self.long, inode: 7, offset: 1500)])
        #expect(match(table, Self.long, inode: 7, size: 1200) == .truncated(0))
    }

    @Test func anotherInodeWithTheSameHeadIsARotatedCopyWhenTheOriginalIsGone() {
        let table = CheckpointTable([Self.entry(Self.long, inode: 7, offset: 1500)])
        #expect(match(table, Self.long, inode: 8, size: 900, probe: .gone) == .copy(0))
        #expect(match(table, Self.long, inode: 8, size: 900, probe: .same) == .copy(0))
    }

    /// Issue 15 item 8: a shared banner longer than the fingerprint is not the same file.
    @Test func sharedHeadThatDiffersFurtherInIsADifferentFile() {
        var table = CheckpointTable([Self.entry(Self.long, inode: 7, offset: 3000)])
        table.attached[0] = 1
        #expect(match(table, Self.long, inode: 8, size: 5000, probe: .different) == .sharedHead(0))
        table.attached[0] = nil
        #expect(match(table, Self.long, inode: 8, size: 5000, probe: .different) == .sharedHead(0))
    }

    /// Issue 15 item 10: a copy of a short followed file is recognised, even an exact one under 1 KiB.
    @Test func shortCopyOfALiveFileIsACopy() {
        let short = Self.head("{\"n\":1}\n{\"n\":2}\n")
        var table = CheckpointTable([Self.entry(short, inode: 7, offset: UInt64(short.count))])
        table.attached[0] = 1
        #expect(match(table, short, inode: 8, size: UInt64(short.count), probe: .same) == .copyOfLive(0))
    }

    /// A copy taken before the original grew: its whole head is a prefix of the original's longer fingerprint.
    @Test func shortCopyOfAFileThatGrewSinceIsFoundByItsFirstLine() {
        let grown = Self.head("{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n")
        let copy = Self.head("{\"n\":1}\n{\"n\":2}\n")
        var table = CheckpointTable([Self.entry(grown, inode: 7, offset: UInt64(grown.count))])
        table.attached[0] = 1
        #expect(match(table, copy, inode: 8, size: UInt64(copy.count), probe: .same) == .new)  // not noted yet
        table.noteHead(0, grown)
        #expect(match(table, copy, inode: 8, size: UInt64(copy.count), probe: .same) == .copyOfLive(0))
        #expect(match(table, copy, inode: 8, size: UInt64(copy.count), probe: .different) == .new)
        table.attached[0] = nil
        #expect(match(table, copy, inode: 8, size: UInt64(copy.count), probe: .same) == .copy(0))
    }

    /// Issue 15 item 9: once a file is known as a copy, it stays one after its original is truncated.
    @Test func aKnownCopyStaysACopy() {
        var table = CheckpointTable([Self.entry(Self.long, inode: 7, offset: 3000)])
        table.attached[0] = 1
        table.noteCopy(FileIdentity.FileID(device: 1, inode: 8), of: 0)
        #expect(match(table, Self.head("anything"), inode: 8, size: 10) == .copyOfLive(0))
        table.attached[0] = nil
        #expect(match(table, Self.head("anything"), inode: 8, size: 10) == .copy(0))
        table.remove(0)
        #expect(match(table, Self.head("anything"), inode: 8, size: 10) == .new)
    }

    /// copytruncate: a copy of a file being read is nothing new until that file's stream finds it truncated; then
    /// the copy holds what the stream had not read, whether it was seen before (a known copy) or only now.
    @Test func aCopyOfALiveFileFoundTruncatedIsACopyOfATruncatedFile() {
        var table = CheckpointTable([Self.entry(Self.long, inode: 7, offset: 1500)])
        table.attached[0] = 1
        table.noteCopy(FileIdentity.FileID(device: 1, inode: 8), of: 0)
        #expect(match(table, Self.long, inode: 8, size: 5000) == .copyOfLive(0))
        #expect(match(table, Self.long, inode: 9, size: 5000, probe: .gone) == .copyOfLive(0))
        table.noteTruncated(0, at: 2400)
        #expect(table.truncated == [0: 2400])
        #expect(match(table, Self.long, inode: 8, size: 5000) == .copyOfTruncated(0))
        #expect(match(table, Self.long, inode: 9, size: 5000, probe: .gone) == .copyOfTruncated(0))
        // The stream is done (its lines resolved): the copy continues from the entry's checkpoint, as any copy.
        table.release(0)
        #expect(table.truncated.isEmpty && table.attached.isEmpty)
        #expect(match(table, Self.long, inode: 8, size: 5000) == .copy(0))
        #expect(match(table, Self.long, inode: 9, size: 5000, probe: .gone) == .copy(0))
    }

    /// Only a live stream can note a truncation (a released entry's copy is read from its checkpoint).
    @Test func aTruncationIsNotedOnlyForAnAttachedEntry() {
        var table = CheckpointTable([Self.entry(Self.long, inode: 7, offset: 1500)])
        table.noteTruncated(0, at: 2400)
        #expect(table.truncated.isEmpty)
        table.attached[0] = 1
        table.noteTruncated(0, at: 2400)
        table.remove(0)
        #expect(table.truncated.isEmpty)
    }

    /// The file being read is a shorter copy of the new one: the new one continues after it, with the same key.
    @Test func aLongerOriginalOfALiveCopyContinuesAfterIt() {
        var table = CheckpointTable([Self.entry(Self.long, inode: 7, offset: 1500)])
        table.attached[0] = 1
        #expect(match(table, Self.long, inode: 8, size: 5000, probe: .prefixOf(size: 2000)) == .extends(0, after: 2000))
        table.attached[0] = nil
        #expect(match(table, Self.long, inode: 8, size: 5000, probe: .prefixOf(size: 2000)) == .copy(0))
    }

    @Test func unrelatedFileIsNew() {
        let table = CheckpointTable([Self.entry(Self.long, inode: 7, offset: 3000)])
        #expect(match(table, Self.head("{\"other\":1}\n"), inode: 9, size: 12) == .new)
    }

    @Test func keysAreUniqueAmongKnownFiles() {
        var table = CheckpointTable([])
        let first = table.uniqueKey("abc", device: 1, inode: 7)
        #expect(first == "abc")
        table.insert(
            FileCheckpoint(
                fingerprint: "abc", fingerprintLength: 3, device: 1, inode: 7, path: "a", offset: 0,
                size: 0, compressed: false, updatedAt: 0, key: first))
        let second = table.uniqueKey("abc", device: 1, inode: 8)
        #expect(second != "abc")
        #expect(second == table.uniqueKey("abc", device: 1, inode: 8))  // deterministic
        table.insert(
            FileCheckpoint(
                fingerprint: "abc", fingerprintLength: 3, device: 1, inode: 8, path: "b", offset: 0,
                size: 0, compressed: false, updatedAt: 0, key: second))
        #expect(table.uniqueKey("abc", device: 1, inode: 8) != second)
    }

    /// The export hand-over's question: which entries the agent would take for a file.
    @Test func claimantsAreTheSameFileElseEntriesItsHeadBeginsWith() {
        let other = Self.head("{\"other\":1}\n")
        let table = CheckpointTable([
            Self.entry(Self.long, inode: 7, offset: 500),
            Self.entry(Self.long, inode: 8, offset: 900, path: "/l/app.log.1"),
            Self.entry(other, inode: 9, offset: 12, path: "/l/other.log"),
        ])
        let head = Array(Self.long.prefix(Fingerprint.fullLength))
        let file = { (inode: UInt64) in FileIdentity.FileID(device: 1, inode: inode) }
        #expect(table.claimants(of: file(7), head: head) == [0])
        #expect(table.claimants(of: file(9), head: head) == [2])  // the same file wins over content
        #expect(table.claimants(of: file(20), head: head) == [0, 1])
        #expect(table.claimants(of: file(20), head: head, excluding: [file(8)]) == [0])
        #expect(table.claimants(of: file(20), head: Self.head("{\"x\":1}\n")) == [])
        // A head shorter than an entry's fingerprint cannot begin with it.
        #expect(table.claimants(of: file(20), head: Array(head.prefix(100))) == [])
    }
}
