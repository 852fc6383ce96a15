import Tailing
import Testing

/// A copy of a `LineEvent` that outlives the callback (the real one borrows the framer's buffer).
enum Framed: Equatable, CustomStringConvertible {
    case line(String, offset: UInt64, end: UInt64)
    case tooLong(sample: [UInt8], length: UInt64, offset: UInt64, end: UInt64)
    case corrupt(offset: UInt64, compressedOffset: UInt64)

    init(_ event: LineEvent) {
        switch event {
        case .line(let line):
            self = .line(String(decoding: line.bytes, as: UTF8.self), offset: line.offset, end: line.end)
        case .tooLong(let sample, let length, let offset, let end):
            self = .tooLong(sample: sample, length: length, offset: offset, end: end)
        case .corrupt(_, let offset, let compressedOffset):
            self = .corrupt(offset: offset, compressedOffset: compressedOffset)
        }
    }

    var offset: UInt64 {
        switch self {
        case .line(_, let offset, _), .tooLong(_, _, let offset, _), .corrupt(let offset, _): offset
        }
    }

    var end: UInt64 {
        switch self {
        case .line(_, _, let end), .tooLong(_, _, _, let end): end
        case .corrupt(let offset, _): offset
        }
    }

    var description: String {
        switch self {
        case .line(let s, let o, let e): "line(\(s.debugDescription) \(o)..<\(e))"
        case .tooLong(let s, let l, let o, let e): "tooLong(sample \(s.count), length \(l), \(o)..<\(e))"
        case .corrupt(let o, let c): "corrupt(at \(o), compressed \(c))"
        }
    }
}

extension LineFramer {
    mutating func feed(_ text: String) -> [Framed] { feed(Array(text.utf8)) }

    mutating func feed(_ bytes: [UInt8]) -> [Framed] {
        append(bytes)
        var out: [Framed] = []
        frame { out.append(Framed($0)) }
        return out
    }

    mutating func partial() -> [Framed] {
        var out: [Framed] = []
        takePartial { out.append(Framed($0)) }
        return out
    }
}

@Suite struct LineFramerTests {
    @Test func nothingBeforeTheFirstAppend() {
        var framer = LineFramer(startOffset: 0, maxLineBytes: 100)
        var count = 0
        #expect(framer.frame { _ in count += 1 } == 0)
        #expect(count == 0)
        #expect(framer.partial().isEmpty)
        #expect(framer.offset == 0)
    }

    /// A chunk's lines can be kept until `chunkEnd` (the engine maps them together there): it comes once per call,
    /// after the chunk's events, while their bytes are still the lines'.
    @Test func chunkEndComesOnceAfterTheChunksEventsWhileTheirBytesHold() {
        var framer = LineFramer(startOffset: 0, maxLineBytes: 8)
        var log: [String] = []
        var held: [UnsafeRawBufferPointer] = []
        framer.append(Array("ab\ncd\n0123456789\nef\ng".utf8))
        framer.frame(
            { event in
                log.append(Framed(event).description)
                if case .line(let line) = event { held.append(line.bytes) }
            },
            chunkEnd: {
                log.append("end")
                log.append(held.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ","))
                held.removeAll()
            })
        #expect(log.count == 6)
        #expect(log.suffix(2) == ["end", "ab,cd,ef"])
        // Nothing complete: chunkEnd still comes, with nothing before it.
        log.removeAll()
        framer.frame({ _ in log.append("event") }, chunkEnd: { log.append("end") })
        #expect(log == ["end"])
    }

    @Test func linesSplitAcrossAppends() {
        var framer = LineFramer(startOffset: 0, maxLineBytes: 100)
        #expect(framer.feed("ab").isEmpty)
        #expect(framer.pendingCount == 2)
        #expect(framer.feed("c\nde") == [.line("abc", offset: 0, end: 4)])
        #expect(framer.pendingCount == 2)
        #expect(framer.offset == 4)
        #expect(framer.feed("f\ng\n") == [.line("def", offset: 4, end: 8), .line("g", offset: 8, end: 10)])
        #expect(framer.pendingCount == 0)
        #expect(framer.offset == 10)
    }

    @Test func offsetsCountFromTheStartOffset() {
        var framer = LineFramer(startOffset: 1_000, maxLineBytes: 100)
        #expect(
            framer.feed("x\nyy\n") == [.line("x", offset: 1_000, end: 1_002), .line("yy", offset: 1_002, end: 1_005)])
    }

    @Test func crlfKeepsTheCarriageReturn() {
        var framer = LineFramer(startOffset: 0, maxLineBytes: 100)
        #expect(
            framer.feed("{\"a\":1}\r\n\r\n") == [
                .line("{\"a\":1}\r", offset: 0, end: 9), .line("\r", offset: 9, end: 11),
            ])
    }

    @Test func emptyLinesAreLines() {
        var framer = LineFramer(startOffset: 0, maxLineBytes: 100)
        #expect(
            framer.feed("\n\na\n\n") == [
                .line("", offset: 0, end: 1), .line("", offset: 1, end: 2), .line("a", offset: 2, end: 4),
                .line("", offset: 4, end: 5),
            ])
    }

    @Test func partialLineIsHeldBackUntilItsNewline() {
        var framer = LineFramer(startOffset: 0, maxLineBytes: 100)
        #expect(framer.feed("one\ntw") == [.line("one", offset: 0, end: 4)])
        #expect(framer.peekPartial() == Array("tw".utf8))
        #expect(framer.offset == 4)  // not past the partial line
        for _ in 0..<3 { #expect(framer.feed([]).isEmpty) }
        #expect(framer.feed("o\n") == [.line("two", offset: 4, end: 8)])
        #expect(framer.peekPartial().isEmpty)
    }

    @Test func lineOfExactlyTheLimitIsALine() {
        var framer = LineFramer(startOffset: 0, maxLineBytes: 5)
        #expect(framer.feed("12345") == [])
        #expect(!framer.isSkipping)
        #expect(
            framer.feed("\n123456\n") == [
                .line("12345", offset: 0, end: 6),
                .tooLong(sample: Array("123456".utf8), length: 6, offset: 6, end: 13),
            ])
    }

    @Test func overLongLineInOneChunk() {
        var framer = LineFramer(startOffset: 10, maxLineBytes: 2_000)
        let long = [UInt8](repeating: UInt8(ascii: "x"), count: 3_000) + Array("tail".utf8)
        let events = framer.feed(Array("ok\n".utf8) + long + Array("\nnext\n".utf8))
        #expect(
            events == [
                .line("ok", offset: 10, end: 13),
                .tooLong(sample: Array(long.prefix(LineFramer.sampleBytes)), length: 3_004, offset: 13, end: 3_018),
                .line("next", offset: 3_018, end: 3_023),
            ])
        #expect(framer.offset == 3_023)
    }

    @Test func overLongLineSpreadOverManyAppendsKeepsMemoryBounded() {
        var framer = LineFramer(startOffset: 0, maxLineBytes: 100)
        #expect(framer.feed("first\n") == [.line("first", offset: 0, end: 6)])
        var line: [UInt8] = []
        for i in 0..<50 {
            let chunk = [UInt8](repeating: UInt8(ascii: "a") + UInt8(i % 26), count: 60)
            line += chunk
            #expect(framer.feed(chunk).isEmpty)
            #expect(framer.pendingCount <= 100)
        }
        #expect(framer.isSkipping)
        line += Array("end".utf8)
        let events = framer.feed(Array("end\nafter\n".utf8))
        #expect(
            events == [
                .tooLong(sample: Array(line.prefix(LineFramer.sampleBytes)), length: 3_003, offset: 6, end: 3_010),
                .line("after", offset: 3_010, end: 3_016),
            ])
        #expect(!framer.isSkipping)
    }

    @Test func overLongLineShorterThanTheSampleKeepsItAll() {
        var framer = LineFramer(startOffset: 0, maxLineBytes: 10)
        #expect(framer.feed("0123456789AB").isEmpty)  // starts skipping with a 12-byte sample
        #expect(framer.feed("CDEF").isEmpty)
        #expect(
            framer.feed("G\n") == [
                .tooLong(sample: Array("0123456789ABCDEFG".utf8), length: 17, offset: 0, end: 18)
            ])
    }

    @Test func takePartialHandsOutTheRest() {
        var framer = LineFramer(startOffset: 0, maxLineBytes: 100)
        #expect(framer.feed("a\nbc") == [.line("a", offset: 0, end: 2)])
        #expect(framer.partial() == [.line("bc", offset: 2, end: 4)])
        #expect(framer.offset == 4)
        #expect(framer.pendingCount == 0)
        #expect(framer.partial().isEmpty)
        #expect(framer.feed("d\n") == [.line("d", offset: 4, end: 6)])
    }

    @Test func takePartialWhileSkippingReportsTheLongLine() {
        var framer = LineFramer(startOffset: 0, maxLineBytes: 4)
        #expect(framer.feed("abcdefgh").isEmpty)
        framer.append(Array("ij".utf8))  // appended but not framed yet
        #expect(framer.partial() == [.tooLong(sample: Array("abcdefghij".utf8), length: 10, offset: 0, end: 10)])
        #expect(framer.offset == 10)
        #expect(framer.feed("k\n") == [.line("k", offset: 10, end: 12)])
    }

    @Test func manyLinesFramedOneByteAtATime() {
        let text = sampleLines(200).joined(separator: "\n") + "\n"
        var framer = LineFramer(startOffset: 0, maxLineBytes: 1_000)
        var lines: [Framed] = []
        for byte in text.utf8 { lines += framer.feed([byte]) }
        var expected: [Framed] = []
        var at: UInt64 = 0
        for line in sampleLines(200) {
            let end = at + UInt64(line.utf8.count) + 1
            expected.append(.line(line, offset: at, end: end))
            at = end
        }
        #expect(lines == expected)
    }
}
