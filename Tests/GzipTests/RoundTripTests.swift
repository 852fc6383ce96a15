import Gzip
import Testing

@Suite("Round trips through zlib's own gzip writer")
struct RoundTripTests {
    @Test("random bytes survive compress and decompress", arguments: [0, 1, 100, 65_535, 65_536, 200_000, 1_500_000])
    func randomRoundTrip(count: Int) throws {
        let data = TestData.randomBytes(count, seed: UInt64(count))
        let compressed = Gzip.compress(data)
        #expect(GzipFormat.hasGzipMagic(compressed))
        #expect(Bytes(try Gzip.decompress(compressed)) == Bytes(data))
    }

    @Test("text survives every compression level", arguments: [0, 1, 6, 9] as [Int32])
    func textRoundTrip(level: Int32) throws {
        let data = TestData.jsonLines(byteCount: 2_200_000)
        let compressed = Gzip.compress(data, level: level)
        #expect(Bytes(try Gzip.decompress(compressed)) == Bytes(data))
    }

    @Test("feeding one byte at a time gives the same bytes and counters")
    func oneByteAtATime() {
        let data = TestData.jsonLines(byteCount: 60_000)
        let compressed = Gzip.compress(data)
        let inflater = GzipInflater()
        #expect(inflater.isAtMemberBoundary)
        var output: [UInt8] = []
        var sawInsideMember = false
        for byte in compressed {
            #expect(throws: Never.self) { try inflater.inflate([byte], into: &output) }
            sawInsideMember = sawInsideMember || !inflater.isAtMemberBoundary
        }
        #expect(throws: Never.self) { try inflater.finish() }
        #expect(Bytes(output) == Bytes(data))
        #expect(sawInsideMember)
        #expect(inflater.isAtMemberBoundary)
        #expect(inflater.membersCompleted == 1)
        #expect(inflater.compressedBytesConsumed == UInt64(compressed.count))
        #expect(inflater.decompressedBytesProduced == UInt64(data.count))
    }

    @Test("random chunk sizes give the same bytes", arguments: [1, 2, 3] as [UInt64])
    func randomChunks(seed: UInt64) {
        let data = TestData.jsonLines(byteCount: 1_600_000, seed: seed)
        var rng = SeededGenerator(seed: seed)
        let result = feed(Gzip.compress(data)) { _ in Int(rng.next() % 100_000) + 1 }
        #expect(result.error == nil)
        #expect(Bytes(result.output) == Bytes(data))
    }

    @Test("highly compressible input expands in bounded steps to the full output")
    func zerosExpand() throws {
        let data = [UInt8](repeating: 0x20, count: 12 << 20)
        let compressed = Gzip.compress(data, level: 9)
        #expect(compressed.count < 20_000)
        #expect(Bytes(try Gzip.decompress(compressed)) == Bytes(data))
    }

    @Test("an empty input is zero members, not an error")
    func emptyInput() throws {
        #expect(try Gzip.decompress([]) == [])
    }

    @Test("reset lets one inflater read a second file")
    func reset() throws {
        let inflater = GzipInflater()
        var output: [UInt8] = []
        #expect(throws: GzipError.self) { try inflater.inflate(Array("not gzip".utf8), into: &output) }
        inflater.reset()
        try inflater.inflate(Gzip.compress(Array("ok\n".utf8)), into: &output)
        try inflater.finish()
        #expect(output == Array("ok\n".utf8))
        #expect(inflater.membersCompleted == 1)
    }
}
