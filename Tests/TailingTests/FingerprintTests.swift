import Gzip
import Tailing
import Testing

@Suite struct FingerprintTests {
    @Test func emptyFileHasNone() throws {
        let dir = try TemporaryDirectory()
        #expect(try Fingerprint.of(path: dir.write("empty.log", [])) == nil)
    }

    @Test func directoryIsAnErrorNotAnEmptyFile() throws {
        let dir = try TemporaryDirectory()
        #expect(throws: TailingError.self) { try Fingerprint.of(path: dir.path) }
    }

    @Test func shortFileFingerprintGrowsWithTheFile() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("app.log", "{\"a\":1}\n")
        let short = try #require(try Fingerprint.of(path: path))
        #expect(short.length == 8)
        #expect(!short.isComplete)
        #expect(short == Fingerprint.of(Array("{\"a\":1}\n".utf8)))

        try append(path, text(sampleLines(100)))
        let long = try #require(try Fingerprint.of(path: path))
        #expect(long.length == Fingerprint.fullLength)
        #expect(long.isComplete)
        #expect(long != short)
        // The longer file still starts with what the short fingerprint saw.
        #expect(short.matches(prefixOf: try Fingerprint.readHead(path: path, count: Fingerprint.fullLength)))
        #expect(long.matches(prefixOf: try Fingerprint.readHead(path: path, count: Fingerprint.fullLength)))

        try append(path, text(sampleLines(100, tag: "more")))
        #expect(try Fingerprint.of(path: path) == long)  // complete: growth no longer changes it
    }

    @Test func prefixMatchFailsForOtherContentOrShorterHeads() {
        let fingerprint = Fingerprint.of(Array("hello world\n".utf8))
        #expect(fingerprint.matches(prefixOf: Array("hello world\nand more".utf8)))
        #expect(!fingerprint.matches(prefixOf: Array("hello there\nand more".utf8)))
        #expect(!fingerprint.matches(prefixOf: Array("hello".utf8)))
    }

    @Test(arguments: [10, 1_023, 1_024, 5_000])
    func gzipAndPlainOfTheSameContentAreEqual(size: Int) throws {
        let dir = try TemporaryDirectory()
        let content = Array(text(sampleLines(200)).prefix(size))
        let plain = try dir.write("app.log.1", content)
        let gz = try dir.write("app.log.1.gz", Gzip.compress(content))
        let fromPlain = try #require(try Fingerprint.of(path: plain))
        #expect(fromPlain.length == min(size, Fingerprint.fullLength))
        #expect(try Fingerprint.of(path: gz) == fromPlain)
    }

    /// One read gives what identifying a new file and opening its reader need: the head and the gzip decision.
    @Test func fileHeadIsTheDecompressedHeadAndTheMagicDecision() throws {
        let dir = try TemporaryDirectory()
        let content = text(sampleLines(200))
        let plain = try Fingerprint.readFileHead(path: try dir.write("app.log", content))
        #expect(plain == FileHead(bytes: Array(content.prefix(Fingerprint.fullLength)), isCompressed: false))
        let gz = try Fingerprint.readFileHead(path: try dir.write("app.log.1", Gzip.compress(content)))  // no suffix
        #expect(gz == FileHead(bytes: Array(content.prefix(Fingerprint.fullLength)), isCompressed: true))
        #expect(gz.fingerprint == plain.fingerprint)
        #expect(
            try Fingerprint.readFileHead(path: try dir.write("empty.log", []))
                == FileHead(bytes: [], isCompressed: false))
        #expect(throws: TailingError.self) { try Fingerprint.readFileHead(path: dir.url("missing.log")) }
    }

    @Test func gzipHeadSpansMembers() throws {
        let dir = try TemporaryDirectory()
        let content = text(sampleLines(200))
        let members = stride(from: 0, to: content.count, by: 100).map {
            Gzip.compress(Array(content[$0..<min($0 + 100, content.count)]))
        }
        let gz = try dir.write("many.gz", members.flatMap { $0 })
        #expect(try Fingerprint.of(path: gz) == Fingerprint.of(content.prefix(Fingerprint.fullLength)))
    }

    @Test func truncatedGzipFingerprintsWhatItHas() throws {
        let dir = try TemporaryDirectory()
        let content = noise(count: 50_000)
        let gz = Gzip.compress(content)
        let path = try dir.write("cut.gz", Array(gz.prefix(gz.count / 2)))
        #expect(try Fingerprint.of(path: path) == Fingerprint.of(content.prefix(Fingerprint.fullLength)))
    }

    @Test func sharedHeaderLineDiffersOnceTheFilesDo() throws {
        let dir = try TemporaryDirectory()
        let header = "{\"schema\":\"events-v1\"}\n"
        let a = try dir.write("a.log", header)
        let b = try dir.write("b.log", header)
        // Only the header so far: the same content, so the same fingerprint (both are still growing).
        #expect(try Fingerprint.of(path: a) == Fingerprint.of(path: b))
        try append(a, "{\"id\":1}\n")
        try append(b, "{\"id\":2}\n")
        let fa = try #require(try Fingerprint.of(path: a))
        let fb = try #require(try Fingerprint.of(path: b))
        #expect(fa != fb)
        #expect(fa.length == fb.length)
        #expect(fa.length > header.utf8.count)
    }

    @Test func descriptionIsShortAndHashIsHex() {
        let fingerprint = Fingerprint.of(Array("x".utf8))
        #expect(fingerprint.hash.count == 32)
        #expect(fingerprint.hash.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(fingerprint.description == "\(fingerprint.hash.prefix(12))/1")
    }
}
