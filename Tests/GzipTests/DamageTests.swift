import Gzip
import Testing

@Suite("Cut, corrupt and foreign input")
struct DamageTests {
    let data = TestData.jsonLines(byteCount: 400_000, seed: 20)
    var member: [UInt8] { Gzip.compress(data) }

    @Test("a cut archive throws .truncated at finish and delivers what decoded", arguments: [5, 11, 30_000, -9, -1])
    func truncated(cut: Int) {
        let whole = member
        let kept = Array(whole.prefix(cut > 0 ? cut : whole.count + cut))
        let result = feed(kept) { _ in 4096 }
        #expect(result.error?.kind == .truncated)
        #expect(result.error?.compressedOffset == UInt64(kept.count))
        #expect(data.starts(with: result.output))
        if cut == 30_000 { #expect(result.output.count > 100_000) }
        if cut < 0 { #expect(Bytes(result.output) == Bytes(data)) }  // only (part of) the trailer is missing
    }

    @Test("a cut exactly between members is not truncation")
    func cutAtBoundary() {
        let result = feed(member + Gzip.compress([1, 2, 3]), chunks: { _ in 1000 })
        #expect(result.error == nil)
        #expect(result.inflater.membersCompleted == 2)
    }

    /// Huffman-coded data often still decodes after a flipped byte, so zlib may only notice at the CRC-32 trailer.
    @Test(
        "a damaged byte in coded data is reported at or after it; data before it is delivered",
        arguments: [0.25, 0.5, 0.75])
    func corruptByte(fraction: Double) {
        var damaged = member
        let position = Int(Double(damaged.count) * fraction)
        damaged[position] ^= 0x55
        let clean = feed(Array(member.prefix(position))).output  // everything decodable before the damage
        let result = feed(damaged) { _ in 8192 }
        let error = try! #require(result.error)
        #expect(error.kind == .corruptData || error.kind == .checksumMismatch)
        #expect((UInt64(position)...UInt64(damaged.count)).contains(error.compressedOffset))
        #expect(clean.count > 0)
        #expect(result.output.starts(with: clean))
    }

    /// A stored block's LEN/NLEN pair is checked as soon as it is read, so damage there is reported where it is.
    @Test("a damaged block header mid-stream is reported within a few bytes of it")
    func corruptStoredBlockHeader() throws {
        let stored = Gzip.compress(data, level: 0)
        // Walk the byte-aligned stored blocks (header byte, LEN, NLEN, LEN bytes) to the third one.
        var blockStart = 10
        var blocksBefore = 0
        for _ in 0..<2 {
            blockStart += 5 + (Int(stored[blockStart + 1]) | Int(stored[blockStart + 2]) << 8)
            blocksBefore += 1
        }
        var damaged = stored
        damaged[blockStart + 3] ^= 0xff  // NLEN no longer the complement of LEN
        let result = feed(damaged) { _ in 5000 }
        let error = try #require(result.error)
        #expect(error.kind == .corruptData)
        #expect((UInt64(blockStart + 3)...UInt64(blockStart + 8)).contains(error.compressedOffset))
        #expect(error.message.contains("invalid stored block lengths"))
        #expect(Bytes(result.output) == Bytes(Array(data.prefix(blockStart - 10 - 5 * blocksBefore))))
    }

    @Test("the error is sticky: later calls and finish throw it again")
    func stickyError() {
        let inflater = GzipInflater()
        var output: [UInt8] = []
        var first: GzipError?
        do { try inflater.inflate(Array("plain text\n".utf8), into: &output) } catch { first = error }
        #expect(first?.kind == .badHeader)
        #expect(throws: first!) { try inflater.inflate(member, into: &output) }
        #expect(throws: first!) { try inflater.finish() }
        #expect(output.isEmpty)
    }

    @Test("a wrong CRC-32 or length in the trailer is a checksum mismatch after all data", arguments: [8, 4])
    func badTrailer(fromEnd: Int) {
        var damaged = member
        damaged[damaged.count - fromEnd] ^= 0x01
        let result = feed(damaged) { _ in 65_536 }
        #expect(result.error?.kind == .checksumMismatch)
        let offset = result.error.map { Int($0.compressedOffset) } ?? -1
        #expect((damaged.count - fromEnd + 1...damaged.count).contains(offset))
        #expect(Bytes(result.output) == Bytes(data))
        #expect(result.inflater.membersCompleted == 0)
    }

    @Test(
        "input that is not gzip is a bad header at offset 0",
        arguments: [Array("{\"eventId\":1}\n".utf8), [0x78, 0x9c, 0x01, 0x02], [0, 0, 0, 0], [0x8b, 0x1f, 8, 0]])
    func notGzip(bytes: [UInt8]) {
        let result = feed(bytes) { _ in 1 }
        #expect(result.error?.kind == .badHeader)
        #expect(result.error?.compressedOffset == 0)
        #expect(result.error?.description.contains("gzip") == true)
    }

    @Test("a gzip header with an unknown method or flags is a bad header")
    func badMethod() {
        var wrongMethod = member
        wrongMethod[2] = 7
        #expect(feed(wrongMethod).error?.kind == .badHeader)
        var reservedFlag = member
        reservedFlag[3] = 0x80
        #expect(feed(reservedFlag).error?.kind == .badHeader)
    }

    @Test("zero padding after the last member is accepted, between members too")
    func zeroPadding() {
        let padded = member + [UInt8](repeating: 0, count: 1000)
        for size in [1, 333, 100_000] {
            let result = feed(padded) { _ in size }
            #expect(result.error == nil)
            #expect(Bytes(result.output) == Bytes(data))
            #expect(result.inflater.compressedBytesConsumed == UInt64(padded.count))
        }
        let between = feed(padded + Gzip.compress([9]) + [0, 0])
        #expect(between.error == nil)
        #expect(Bytes(between.output) == Bytes(data + [9]))
    }

    @Test(
        "other trailing bytes are garbage, reported where they start, after the data is delivered",
        arguments: [[UInt8]("junk".utf8), [0x1f, 0x00, 0x00], [0, 0, 0, 0x0a]])
    func trailingGarbage(tail: [UInt8]) {
        let whole = member
        let result = feed(whole + tail) { _ in 1000 }
        #expect(result.error?.kind == .trailingGarbage)
        let zeros = tail.prefix { $0 == 0 }.count
        #expect(result.error?.compressedOffset == UInt64(whole.count + zeros))
        #expect(Bytes(result.output) == Bytes(data))
        #expect(result.inflater.membersCompleted == 1)
    }
}
