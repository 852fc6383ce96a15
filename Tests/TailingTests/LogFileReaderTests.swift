import Foundation
import Gzip
import Tailing
import Testing

extension LogFileReader {
    /// Reads until the status is not `.more`; returns the events and the final status.
    func drain(budget: Int = 1 << 20) throws -> (events: [Framed], status: Status) {
        var events: [Framed] = []
        while true {
            let status = try read(budget: budget) { events.append(Framed($0)) }
            if status != .more { return (events, status) }
        }
    }

    func finishing(includePartial: Bool) -> [Framed] {
        var events: [Framed] = []
        finish(includePartial: includePartial) { events.append(Framed($0)) }
        return events
    }
}

/// The events a correct reader emits for `lines` (each followed by `\n`) from `start`.
func expectedLines(_ lines: [String], from start: UInt64 = 0) -> [Framed] {
    var at: UInt64 = 0
    var out: [Framed] = []
    for line in lines {
        let end = at + UInt64(line.utf8.count) + 1
        if at >= start { out.append(.line(line, offset: at, end: end)) }
        at = end
    }
    return out
}

func text(_ lines: [String]) -> [UInt8] { Array(lines.map { $0 + "\n" }.joined().utf8) }

@Suite struct LogFileReaderTests {
    // MARK: Plain files

    @Test func plainFromAnOffset() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("app.log", "l1\nl2\nl3\n")
        let reader = try LogFileReader(path: path, startOffset: 3, maxLineBytes: 100)
        #expect(!reader.isCompressed)
        let (events, status) = try reader.drain()
        #expect(events == [.line("l2", offset: 3, end: 6), .line("l3", offset: 6, end: 9)])
        #expect(status == .caughtUp)
        #expect(reader.offset == 9)
        #expect(try reader.drain().events.isEmpty)
    }

    @Test func smallBudgetsReportMore() throws {
        let dir = try TemporaryDirectory()
        let lines = sampleLines(100)
        let path = try dir.write("app.log", text(lines))
        let reader = try LogFileReader(path: path, startOffset: 0, maxLineBytes: 1_000, readSize: 64)
        var events: [Framed] = []
        var statuses: [LogFileReader.Status] = []
        while statuses.last != .caughtUp {
            statuses.append(try reader.read(budget: 64) { events.append(Framed($0)) })
        }
        #expect(statuses.dropLast().allSatisfy { $0 == .more })
        #expect(statuses.count > 10)
        #expect(events == expectedLines(lines))
    }

    @Test func appendedDataAfterCaughtUp() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("app.log", "a\n")
        let reader = try LogFileReader(path: path, startOffset: 0, maxLineBytes: 100)
        #expect(try reader.drain() == ([.line("a", offset: 0, end: 2)], .caughtUp))
        try append(path, "b\npart")
        #expect(try reader.drain() == ([.line("b", offset: 2, end: 4)], .caughtUp))
        #expect(reader.pendingCount == 4)
        #expect(reader.peekPartial() == Array("part".utf8))
        try append(path, "ial\n")
        #expect(try reader.drain() == ([.line("partial", offset: 4, end: 12)], .caughtUp))
    }

    @Test func finishHandsOutThePartialLastLineOnlyWhenAsked() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("app.log", "a\nlast")
        let reader = try LogFileReader(path: path, startOffset: 0, maxLineBytes: 100)
        #expect(try reader.drain().events == [.line("a", offset: 0, end: 2)])
        #expect(reader.finishing(includePartial: false).isEmpty)
        #expect(reader.finishing(includePartial: true) == [.line("last", offset: 2, end: 6)])
        #expect(reader.offset == 6)
    }

    @Test func plainTruncationIsReported() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("app.log", text(sampleLines(20)))
        let reader = try LogFileReader(path: path, startOffset: 0, maxLineBytes: 1_000)
        #expect(try reader.drain().status == .caughtUp)
        #expect(truncate(path, 0) == 0)  // copytruncate
        #expect(try reader.drain().status == .truncated)
        try append(path, "new\n")  // shorter than what was read: still truncated
        #expect(try reader.drain().status == .truncated)
    }

    /// A file truncated and written again past the read position before the reader looks: a size check takes it for
    /// growth; with the anchor (the head it was identified by) the reader reports the truncation and hands out
    /// nothing of the new content from the old offset.
    @Test func refillPastTheReadPositionIsTruncation() throws {
        let dir = try TemporaryDirectory()
        let old = sampleLines(20)
        let path = try dir.write("app.log", text(old))
        let anchor = Fingerprint.of(text(old).prefix(Fingerprint.fullLength))
        let reader = try LogFileReader(path: path, startOffset: 0, maxLineBytes: 1_000, anchor: anchor)
        #expect(try reader.drain() == (expectedLines(old), .caughtUp))
        let position = reader.bytesConsumed
        #expect(truncate(path, 0) == 0)
        let new = (0..<80).map { "{\"refill\":\($0)}" }
        try append(path, String(decoding: text(new), as: UTF8.self))
        #expect(UInt64(text(new).count) > position)
        #expect(try reader.drain() == ([], .truncated))
        #expect(reader.offset == position)
        // Without the anchor (size only) the same refill is read from the old offset: the case the anchor is for.
        let blind = try LogFileReader(path: path, startOffset: position, maxLineBytes: 1_000)
        #expect(try blind.drain().status == .caughtUp)
    }

    /// The check is made when a block is taken: a block read ahead (old content) before the truncation is dropped
    /// with the rest, so the position stays at the end of what was handed out.
    @Test func aBlockReadAheadBeforeARefillIsDropped() throws {
        let dir = try TemporaryDirectory()
        let lines = sampleLines(20)
        let path = try dir.write("app.log", text(lines))
        let reader = try LogFileReader(
            path: path, startOffset: 0, maxLineBytes: 1_000, readSize: 64,
            anchor: Fingerprint.of(text(lines).prefix(Fingerprint.fullLength)))
        #expect(try reader.read(budget: 64) { _ in } == .more)
        reader.blocks.readAhead()
        let taken = reader.bytesConsumed
        #expect(truncate(path, 0) == 0)
        try append(path, String(repeating: "{\"refill\":2}\n", count: 200))
        #expect(try reader.drain() == ([], .truncated))
        #expect(reader.bytesConsumed == taken)
    }

    /// A file that only grows is never taken as truncated, whatever the blocks.
    @Test func anAnchoredReaderReadsGrowthAsBefore() throws {
        let dir = try TemporaryDirectory()
        let lines = sampleLines(200)
        let bytes = text(lines)
        let path = try dir.write("app.log", Array(bytes.prefix(700)))
        let reader = try LogFileReader(
            path: path, startOffset: 0, maxLineBytes: 1_000, readSize: 256,
            anchor: Fingerprint.of(bytes.prefix(700)))
        var events = try reader.drain().events
        try append(path, String(decoding: bytes.dropFirst(700), as: UTF8.self))
        events += try reader.drain().events
        #expect(events == expectedLines(lines))
    }

    @Test func startingPastTheEndIsTruncation() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("app.log", "short\n")
        let reader = try LogFileReader(path: path, startOffset: 100, maxLineBytes: 100)
        #expect(try reader.drain().status == .truncated)
    }

    @Test func renamedWhileOpenKeepsReadingByDescriptor() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("app.log", "one\n")
        let reader = try LogFileReader(path: path, startOffset: 0, maxLineBytes: 100)
        #expect(try reader.drain().events == [.line("one", offset: 0, end: 4)])
        #expect(rename(path, path + ".1") == 0)
        try append(path + ".1", "two\n")  // the writer still has the old file
        try dir.write("app.log", "fresh\n")  // the rotator created a new one
        #expect(try reader.drain() == ([.line("two", offset: 4, end: 8)], .caughtUp))
        #expect(reader.openedStat.inode == FileStat.of(path: path + ".1")?.inode)
        #expect(reader.openedStat.inode != FileStat.of(path: path)?.inode)
    }

    @Test func deletedWhileOpenStillReadsToTheEnd() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("app.log", "one\ntwo\n")
        let reader = try LogFileReader(path: path, startOffset: 0, maxLineBytes: 100)
        #expect(unlink(path) == 0)
        #expect(try reader.drain().events.count == 2)
        #expect(reader.currentSize() == 8)
    }

    @Test func overLongLineInAFileIsSkippedWithItsPosition() throws {
        let dir = try TemporaryDirectory()
        let long = String(repeating: "z", count: 5_000)
        let path = try dir.write("app.log", "a\n\(long)\nb\n")
        let reader = try LogFileReader(path: path, startOffset: 0, maxLineBytes: 1_000, readSize: 700)
        #expect(
            try reader.drain().events == [
                .line("a", offset: 0, end: 2),
                .tooLong(sample: Array(long.utf8.prefix(1_024)), length: 5_000, offset: 2, end: 5_003),
                .line("b", offset: 5_003, end: 5_005),
            ])
    }

    @Test func missingFileThrowsWithThePath() throws {
        let dir = try TemporaryDirectory()
        #expect {
            try LogFileReader(path: dir.url("missing.log"), startOffset: 0, maxLineBytes: 100)
        } throws: { error in
            (error as? TailingError)?.path == dir.url("missing.log") && (error as? TailingError)?.errno == ENOENT
        }
    }

    // MARK: gzip

    @Test func gzipIsDetectedByContentAndReadToItsEnd() throws {
        let dir = try TemporaryDirectory()
        let lines = sampleLines(2_000)
        let path = try dir.write("app.log.1", Gzip.compress(text(lines)))  // no .gz suffix on purpose
        let reader = try LogFileReader(path: path, startOffset: 0, maxLineBytes: 1_000, readSize: 4_096)
        #expect(reader.isCompressed)
        let (events, status) = try reader.drain(budget: 4_096)
        #expect(events == expectedLines(lines))
        #expect(status == .finished)
        #expect(try reader.drain().status == .finished)
        #expect(reader.finishing(includePartial: true).isEmpty)
    }

    /// The engine opens a reader with the decision made from the file's head; the reader does not sniff again.
    @Test func theCallersCompressionDecisionIsUsed() throws {
        let dir = try TemporaryDirectory()
        let lines = sampleLines(50)
        let gz = try dir.write("app.log.1", Gzip.compress(text(lines)))
        let head = try Fingerprint.readFileHead(path: gz)
        let reader = try LogFileReader(path: gz, startOffset: 0, maxLineBytes: 1_000, compressed: head.isCompressed)
        #expect(reader.isCompressed)
        #expect(try reader.drain().events == expectedLines(lines))
        let plain = try dir.write("app.log", text(lines))
        let told = try LogFileReader(path: plain, startOffset: 0, maxLineBytes: 1_000, compressed: false)
        #expect(!told.isCompressed)
        #expect(try told.drain().events == expectedLines(lines))
    }

    @Test(arguments: [1, 777, 1_000])
    func gzipResumesFromADecompressedOffsetMidFile(lineIndex: Int) throws {
        let dir = try TemporaryDirectory()
        let lines = sampleLines(2_000)
        let start = expectedLines(lines)[lineIndex]
        let path = try dir.write("app.gz", Gzip.compress(text(lines)))
        let reader = try LogFileReader(path: path, startOffset: start.offset, maxLineBytes: 1_000, readSize: 1_000)
        let (events, status) = try reader.drain(budget: 10_000)
        #expect(events == expectedLines(lines, from: start.offset))
        #expect(status == .finished)
    }

    @Test func multiMemberGzipWithALineAcrossTheBoundary() throws {
        let dir = try TemporaryDirectory()
        let first = Gzip.compress(Array("a\nb".utf8))
        let second = Gzip.compress(Array("c\nd\n".utf8))
        let padding = [UInt8](repeating: 0, count: 16)
        let path = try dir.write("multi.gz", first + second + padding)
        for readSize in [1, 7, 4_096] {
            let reader = try LogFileReader(path: path, startOffset: 0, maxLineBytes: 100, readSize: readSize)
            let (events, status) = try reader.drain()
            #expect(
                events == [
                    .line("a", offset: 0, end: 2), .line("bc", offset: 2, end: 5), .line("d", offset: 5, end: 7),
                ])
            #expect(status == .finished)
        }
        // Resuming inside the second member.
        let reader = try LogFileReader(path: path, startOffset: 5, maxLineBytes: 100)
        #expect(try reader.drain() == ([.line("d", offset: 5, end: 7)], .finished))
    }

    @Test func truncatedGzipIsCaughtUpUntilFinishReportsItCorrupt() throws {
        let dir = try TemporaryDirectory()
        let lines = sampleLines(3_000)
        let full = Gzip.compress(text(lines))
        let cut = Array(full.prefix(full.count / 2))
        let path = try dir.write("cut.gz", cut)
        let reader = try LogFileReader(path: path, startOffset: 0, maxLineBytes: 1_000)
        let (events, status) = try reader.drain()
        #expect(status == .caughtUp)  // it may still be being written
        #expect(!events.isEmpty)
        #expect(events == Array(expectedLines(lines).prefix(events.count)))

        let final = reader.finishing(includePartial: false)
        guard case .corrupt(let offset, let compressedOffset)? = final.last else {
            Issue.record("no corrupt event: \(final)")
            return
        }
        #expect(compressedOffset == UInt64(cut.count))
        #expect(offset == (final.dropLast().last ?? events.last)?.end ?? 0)
        #expect(offset > 0)
        #expect(try reader.drain().status == .finished)
    }

    /// Reading the next block ahead while a chunk's lines are worked on (the engine's mapping worker does it inside
    /// `chunkEnd`) changes nothing: same events, same offsets, same end, for plain, multi-member gzip and damaged gzip,
    /// also when the reader is dropped with a block ahead and reopened at its offset.
    @Test func readingAheadInsideChunkEndChangesNothing() throws {
        let dir = try TemporaryDirectory()
        let lines = (0..<3_000).map { i in "{\"n\":\(i),\"pad\":\"\(String(repeating: "x", count: i % 97))\"}" }
        let noisy = (0..<2_000).map { i in noise(count: 40, seed: UInt64(i + 1)).map { String($0, radix: 16) }.joined()
        }
        var damaged = Gzip.compress(text(noisy))
        let damage = damaged.count / 2
        for i in damage..<(damage + 64) { damaged[i] ^= 0x5A }
        let files = [
            try dir.write("plain.log", text(lines)),
            try dir.write(
                "two.gz", Gzip.compress(text(Array(lines[..<1_000]))) + Gzip.compress(text(Array(lines[1_000...])))),
            try dir.write("bad.gz", damaged),
        ]
        func events(_ path: String, ahead: Bool, dropEvery: Int = 0) throws -> [Framed] {
            var out: [Framed] = []
            var reader = try LogFileReader(path: path, startOffset: 0, maxLineBytes: 4_000, readSize: 4_096)
            var reads = 0
            while true {
                let status = try reader.read(budget: 4_096) {
                    out.append(Framed($0))
                } chunkEnd: {
                    if ahead { reader.blocks.readAhead() }
                }
                reads += 1
                if status != .more { break }
                if dropEvery > 0, reads % dropEvery == 0 {
                    // Dropped with a block read ahead: reopened at its offset, nothing is skipped or repeated.
                    reader = try LogFileReader(
                        path: path, startOffset: reader.offset, maxLineBytes: 4_000, readSize: 4_096)
                }
            }
            return out
        }
        for path in files {
            let plain = try events(path, ahead: false)
            #expect(plain.count > 1_000)
            #expect(try events(path, ahead: true) == plain, "\(path)")
        }
        #expect(try events(files[0], ahead: true, dropEvery: 3) == events(files[0], ahead: false))
        #expect(try events(files[1], ahead: true, dropEvery: 5) == events(files[1], ahead: false))
    }

    /// The mapping worker reads the next block ahead on its own thread while the engine is inside `chunkEnd` and
    /// goes on with the chunk: the same events as without reading ahead, for plain and gzip files (and, under
    /// ThreadSanitizer, `.ci/tsan`, no race between the two threads).
    @Test func readingAheadFromAnotherThreadChangesNothing() throws {
        let dir = try TemporaryDirectory()
        let lines = (0..<3_000).map { i in "{\"n\":\(i),\"pad\":\"\(String(repeating: "y", count: i % 89))\"}" }
        let files = [
            try dir.write("plain.log", text(lines)),
            try dir.write(
                "two.gz", Gzip.compress(text(Array(lines[..<1_500]))) + Gzip.compress(text(Array(lines[1_500...])))),
        ]
        func events(_ path: String, ahead: Bool) throws -> [Framed] {
            var out: [Framed] = []
            // The chunk's lines as the reader hands them out: their bytes are the framer's.
            var chunk: [FramedLine] = []
            var lineBytes = 0
            let reader = try LogFileReader(path: path, startOffset: 0, maxLineBytes: 4_000, readSize: 4_096)
            while true {
                let status = try reader.read(budget: 4_096) {
                    out.append(Framed($0))
                    if case .line(let line) = $0 { chunk.append(line) }
                } chunkEnd: {
                    defer { chunk.removeAll() }
                    guard ahead else { return }
                    let blocks = reader.blocks
                    let done = DispatchSemaphore(value: 0)
                    let worker = Thread {
                        blocks.readAhead()
                        done.signal()
                    }
                    worker.start()
                    // Meanwhile the engine reads the chunk's lines where the framer keeps them: reading ahead must
                    // not touch them.
                    for (line, copy) in zip(chunk, out.suffix(chunk.count)) {
                        #expect(Framed(.line(line)) == copy)
                        lineBytes += line.bytes.count
                    }
                    done.wait()
                }
                if status != .more { break }
            }
            #expect(!ahead || lineBytes > 0)
            return out
        }
        for path in files {
            let plain = try events(path, ahead: false)
            #expect(plain.count == 3_000)
            #expect(try events(path, ahead: true) == plain, "\(path)")
        }
    }

    @Test func corruptGzipMidStreamStopsWithACorruptEvent() throws {
        let dir = try TemporaryDirectory()
        // Lines of noise (hex) barely compress, so damage in the middle is met in the middle.
        let lines = (0..<2_000).map { i in noise(count: 40, seed: UInt64(i + 1)).map { String($0, radix: 16) }.joined()
        }
        var gz = Gzip.compress(text(lines))
        let damage = gz.count / 2
        for i in damage..<(damage + 64) { gz[i] ^= 0x5A }
        let path = try dir.write("bad.gz", gz)
        let reader = try LogFileReader(path: path, startOffset: 0, maxLineBytes: 1_000, readSize: 4_096)
        let (events, status) = try reader.drain(budget: 4_096)
        #expect(status == .finished)
        guard case .corrupt(let offset, let compressedOffset)? = events.last else {
            Issue.record("no corrupt event at the end: \(events.suffix(2))")
            return
        }
        #expect(compressedOffset >= UInt64(damage))
        #expect(compressedOffset < UInt64(gz.count))
        let good = events.dropLast()
        #expect(good.count > 100)
        #expect(Array(good.prefix(100)) == Array(expectedLines(lines).prefix(100)))
        #expect(offset == good.last?.end)
        #expect(try reader.drain().status == .finished)
        #expect(reader.finishing(includePartial: true).isEmpty)
    }
}
