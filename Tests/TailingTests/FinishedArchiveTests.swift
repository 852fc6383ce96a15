import Foundation
import Gzip
import Tailing
import Testing

/// A finished gzip archive has no writer: its unterminated last line is a complete line. Plain files still wait.
@Suite struct FinishedArchiveTests {
    @Test func gzipLastLineWithoutNewlineIsRead() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("app.log.1.gz", Gzip.compress(Array("l1\nl2\nlast".utf8)))
        let reader = try LogFileReader(path: path, startOffset: 0, maxLineBytes: 100)
        let (events, status) = try reader.drain()
        #expect(status == .finished)
        #expect(events == expectedLines(["l1", "l2"]) + [.line("last", offset: 6, end: 10)])
        #expect(reader.offset == 10)
    }

    @Test func gzipOverLongLastLineWithoutNewlineIsTooLong() throws {
        let dir = try TemporaryDirectory()
        let long = String(repeating: "x", count: 300)
        let path = try dir.write("app.log.1.gz", Gzip.compress(Array("l1\n\(long)".utf8)))
        let reader = try LogFileReader(path: path, startOffset: 0, maxLineBytes: 100)
        let (events, status) = try reader.drain()
        #expect(status == .finished)
        #expect(events.count == 2)
        guard case .tooLong(_, let length, let offset, let end)? = events.last else {
            Issue.record("expected a too-long last line, got \(events)")
            return
        }
        #expect(length == 300 && offset == 3 && end == 303)
    }

    @Test func gzipResumedAfterTheLastCompleteLineStillGetsTheRest() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("app.log.1.gz", Gzip.compress(Array("l1\nl2\nlast".utf8)))
        let reader = try LogFileReader(path: path, startOffset: 6, maxLineBytes: 100)
        let (events, _) = try reader.drain()
        #expect(events == [.line("last", offset: 6, end: 10)])
    }

    @Test func plainFileStillWaitsForItsNewline() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("app.log", Array("l1\npart".utf8))
        let reader = try LogFileReader(path: path, startOffset: 0, maxLineBytes: 100)
        let (events, status) = try reader.drain()
        #expect(status == .caughtUp)
        #expect(events == expectedLines(["l1"]))
        #expect(reader.offset == 3)
    }

    /// An idle follower's reader keeps its pending rest but no read buffer: reading again after the file grows
    /// continues exactly where it stopped.
    @Test func idleReaderReleasesAndReallocatesItsBuffer() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("app.log", Array("a\npa".utf8))
        let reader = try LogFileReader(path: path, startOffset: 0, maxLineBytes: 100_000, readSize: 1 << 20)
        #expect(try reader.drain().events == expectedLines(["a"]))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(("rt\n" + String(repeating: "z", count: 10_000) + "\n").utf8))
        try handle.close()
        let (events, status) = try reader.drain()
        #expect(status == .caughtUp)
        #expect(
            events == [
                .line("part", offset: 2, end: 7), .line(String(repeating: "z", count: 10_000), offset: 7, end: 10_008),
            ])
    }
}

@Suite struct LineFramerFinalTests {
    @Test func finalFrameEmitsTheRestInTheSameSeries() {
        var framer = LineFramer(startOffset: 0, maxLineBytes: 100)
        framer.append(Array("a\nrest".utf8))
        var events: [Framed] = []
        var ends = 0
        framer.frame({ events.append(Framed($0)) }, chunkEnd: { ends += 1 }, final: true)
        #expect(events == [.line("a", offset: 0, end: 2), .line("rest", offset: 2, end: 6)])
        #expect(ends == 1)
        #expect(framer.offset == 6)
        #expect(framer.pendingCount == 0)
    }

    @Test func finalFrameWhileSkippingReportsTheLongLine() {
        var framer = LineFramer(startOffset: 0, maxLineBytes: 4)
        framer.append(Array("abcdefgh".utf8))
        var events: [Framed] = []
        framer.frame { events.append(Framed($0)) }
        #expect(events.isEmpty)
        framer.append(Array("ij".utf8))
        framer.frame({ events.append(Framed($0)) }, final: true)
        guard case .tooLong(_, let length, let offset, let end)? = events.first else {
            Issue.record("expected a too-long line, got \(events)")
            return
        }
        #expect(events.count == 1 && length == 10 && offset == 0 && end == 10)
    }
}
