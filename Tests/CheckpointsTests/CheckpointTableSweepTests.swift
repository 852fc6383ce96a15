import Checkpoints
import Tailing
import Testing

/// Forgetting the entries of files no scan lists any more: the table stays as large as what can still be seen.
@Suite struct CheckpointTableSweepTests {
    static let hour: Int64 = 3_600_000
    static let day = 24 * hour

    static func head(_ n: Int) -> [UInt8] {
        Array(String(repeating: "{\"file\":\(n),\"banner\":\"padding the head past one KiB\"}\n", count: 30).utf8)
    }

    static func entry(_ n: Int, inode: UInt64, offset: UInt64 = 100) -> FileCheckpoint {
        let fp = Fingerprint.of(head(n).prefix(Fingerprint.fullLength))
        return FileCheckpoint(
            fingerprint: fp.hash, fingerprintLength: fp.length, device: 1, inode: inode, path: "/l/\(n).log",
            offset: offset, size: offset, compressed: false, updatedAt: 0)
    }

    static func id(_ inode: UInt64) -> FileIdentity.FileID { FileIdentity.FileID(device: 1, inode: inode) }

    func match(_ table: CheckpointTable, _ n: Int, inode: UInt64) -> CheckpointTable.Match {
        let h = Array(Self.head(n).prefix(Fingerprint.fullLength))
        return table.match(
            head: h, fingerprint: Fingerprint.of(h), stat: FileStat(device: 1, inode: inode, size: 5000, modified: 0),
            compressed: false
        ) { _ in .gone }
    }

    @Test func aListedEntryStaysAndAnUnlistedOneIsForgottenAfterTheDelay() {
        var table = CheckpointTable([Self.entry(1, inode: 11), Self.entry(2, inode: 12)])
        let t0: Int64 = 1_000_000
        var sweep = table.sweep(listed: [Self.id(11), Self.id(12)], now: t0, forgetAfter: Self.day)
        #expect(sweep == CheckpointTable.Sweep())
        #expect(!table.dirty)  // nothing changed: nothing to save

        sweep = table.sweep(listed: [Self.id(11)], now: t0 + 1, forgetAfter: Self.day)
        #expect(sweep.missing == 1)
        #expect(table.dirty)  // the start of the count is saved (a cron job's next run goes on counting)
        #expect(table.entries[1]?.missingSince == t0 + 1)

        sweep = table.sweep(listed: [Self.id(11)], now: t0 + Self.day, forgetAfter: Self.day)
        #expect(sweep.forgotten.isEmpty)
        sweep = table.sweep(listed: [Self.id(11)], now: t0 + 1 + Self.day, forgetAfter: Self.day)
        #expect(sweep.forgotten.map(\.inode) == [12])
        #expect(table.entries.count == 1)
        #expect(table.all.map(\.inode) == [11])
        // Forgotten means forgotten: its content found again is a new file, not a copy of the old one.
        #expect(match(table, 2, inode: 99) == .new)
        #expect(match(table, 1, inode: 99) == .copy(0))
    }

    @Test func listedAgainBeforeTheDelayClearsTheCount() {
        var table = CheckpointTable([Self.entry(1, inode: 11)])
        _ = table.sweep(listed: [], now: 0, forgetAfter: Self.hour)
        #expect(table.entries[0]?.missingSince == 0)
        let back = table.sweep(listed: [Self.id(11)], now: Self.hour - 1, forgetAfter: Self.hour)
        #expect(back.returned == 1)
        #expect(table.entries[0]?.missingSince == nil)
        let later = table.sweep(listed: [], now: Self.hour + 1, forgetAfter: Self.hour)
        #expect(later.forgotten.isEmpty && later.missing == 1)
        #expect(table.entries.count == 1)
    }

    @Test func anEntryBeingReadOrWithAListedCopyIsPresent() {
        var table = CheckpointTable([Self.entry(1, inode: 11), Self.entry(2, inode: 12)])
        table.attached[0] = 5  // deleted, still read through its open descriptor
        table.noteCopy(Self.id(40), of: 1)  // app.log.1 gone, app.log.2.gz (its copy) listed
        table.noteCopy(Self.id(41), of: 1)  // another copy, no longer listed
        let sweep = table.sweep(listed: [Self.id(40)], now: 0, forgetAfter: 1)
        #expect(sweep.missing == 0)
        #expect(table.copies == [Self.id(40): 1])
        _ = table.sweep(listed: [], now: 10, forgetAfter: 1)  // the copy went too: missing from now on
        #expect(table.copies.isEmpty)
        #expect(table.entries[1]?.missingSince == 10)
        let gone = table.sweep(listed: [], now: 11, forgetAfter: 1)
        #expect(gone.forgotten.map(\.inode) == [12])
        #expect(table.entries.keys.sorted() == [0])
    }

    @Test func zeroKeepsEntriesForEver() {
        var table = CheckpointTable([Self.entry(1, inode: 11)])
        _ = table.sweep(listed: [], now: 0, forgetAfter: 0)
        let later = table.sweep(listed: [], now: 100 * Self.day, forgetAfter: 0)
        #expect(later.forgotten.isEmpty)
        #expect(table.entries.count == 1)
    }

    /// The count survives a restart: it is part of the saved entry.
    @Test func missingSinceIsSavedAndRead() throws {
        let dir = try TemporaryDirectory()
        let store = DiskCheckpointStore(directory: dir.path)
        var c = Self.entry(1, inode: 11)
        c.missingSince = 1_733_000_000_123
        try store.save([c, Self.entry(2, inode: 12)])
        let loaded = try store.load()
        #expect(loaded.map(\.missingSince).sorted { ($0 ?? 0) < ($1 ?? 0) } == [nil, 1_733_000_000_123])
    }

    /// Many files coming and going leave the table at the size of what is listed.
    @Test func churnLeavesTheTableAtTheSizeOfTheListing() {
        var table = CheckpointTable([])
        var listed: [UInt64] = []
        for step in 0..<2_000 {
            let inode = UInt64(1_000 + step)
            let id = table.insert(Self.entry(step, inode: inode))
            table.noteHead(id, Self.head(step))
            listed.append(inode)
            if listed.count > 50 { listed.removeFirst() }
            _ = table.sweep(listed: Set(listed.map(Self.id)), now: Int64(step), forgetAfter: 10)
        }
        #expect(table.entries.count <= 61)
        #expect(table.files.count == table.entries.count)
    }
}
