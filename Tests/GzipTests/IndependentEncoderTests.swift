import Foundation
import Gzip
import TestSupport
import Testing

@Suite("Archives written by other gzip implementations")
struct IndependentEncoderTests {
    /// Made by Python's gzip module (not zlib's gzip writer): a member with FNAME "events.jsonl" then a plain one.
    ///     buf = io.BytesIO()
    ///     with gzip.GzipFile(filename="events.jsonl", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as f:
    ///         for i in range(3): f.write(b'{"eventId":"e%d","userId":"u%d","eventType":"click"}\n' % (i, i * 7))
    ///     data = buf.getvalue() + gzip.compress(b'{"eventId":"e3","userId":"u21","eventType":"view"}\n', mtime=0)
    ///     print(base64.b64encode(data).decode())
    static let pythonFixture = Array(
        Data(
            base64Encoded:
                "H4sICAAAAAAC/2V2ZW50cy5qc29ubACrVkotS80r8UxRslJKNVDSUSotTi0C80pBPLBkSGVBKlAgOSczOVuplqsaWYshihZz"
                + "YrQYoWgxNMGhBwC0MFoJmgAAAB+LCAAAAAAAAgOrVkotS80r8UxRslJKNVbSUSotTi0C80qNDIFcsGxIZUEqUKQsM7VcqZYL"
                + "AJSkLsgzAAAA")!)

    @Test("Python's gzip module output decodes, FNAME header and two members")
    func pythonMembers() throws {
        let expected =
            (0..<3).map { #"{"eventId":"e\#($0)","userId":"u\#($0 * 7)","eventType":"click"}"# + "\n" }
            .joined() + #"{"eventId":"e3","userId":"u21","eventType":"view"}"# + "\n"
        let result = feed(Self.pythonFixture) { _ in 3 }
        #expect(result.error == nil)
        #expect(String(decoding: result.output, as: UTF8.self) == expected)
        #expect(result.inflater.membersCompleted == 2)
    }

    static let gzipPath = "/usr/bin/gzip"

    @Test(
        "gzip(1) output decodes, with its file name header",
        .enabled(if: FileManager.default.isExecutableFile(atPath: gzipPath), "needs /usr/bin/gzip"),
        arguments: [1, 9])
    func gzipTool(level: Int) throws {
        let data = TestData.jsonLines(byteCount: 1_200_000, seed: 30)
        let directory = FileManager.default.temporaryDirectory.appending(path: "gzip-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appending(path: "events.jsonl")
        try Data(data).write(to: file)

        // Replaces the file with events.jsonl.gz, FNAME set.
        let gzip = try ChildProcess.runBlocking([Self.gzipPath, "-\(level)", file.path])
        #expect(gzip.status == 0, "\(gzip.stderr)")
        let compressed = Array(try Data(contentsOf: directory.appending(path: "events.jsonl.gz")))
        #expect(compressed[3] & 0x08 != 0)  // FNAME

        let result = feed(compressed + compressed) { _ in 32_768 }
        #expect(result.error == nil)
        #expect(Bytes(result.output) == Bytes(data + data))
    }
}
