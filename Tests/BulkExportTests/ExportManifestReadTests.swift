import BulkExport
import Foundation
import Gzip
import Mapping
import TestSupport
import Testing

/// `ExportManifest.read(path:)`: what `checkpoint --from-export` hands over comes back exactly as written.
@Suite struct ExportManifestReadTests {
    static let mappings = """
        {"clicks": {"target": "event", "trackingId": "tracker-1", "when": {"field": "type", "equals": "click"},
          "fields": {"userId": "user", "sessionId": "sid", "eventType": "action", "itemId": "item", "sentAt": "ts"}}}
        """

    static func click(_ n: Int) -> String {
        #"{"type":"click","user":"u\#(n)","sid":"s1","action":"view","item":"i\#(n)","ts":\#(1_700_000_000 + n)}"#
    }

    @Test func aRealExportsManifestReadsBackFromTheDirectoryOrTheFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let archive = (0..<5).map { Self.click($0) + "\n" }.joined()
        try dir.write("logs/web.log.1", archive)
        let gz = Gzip.compress(Array(archive.utf8))
        try dir.write("logs/web.log.1.gz", gz)
        try dir.write("logs/web.log", (5..<8).map { Self.click($0) + "\n" }.joined() + Self.click(8).prefix(20))
        let inputs = ["logs/web.log", "logs/web.log.1.gz"].map { ExportInput(sourceName: "web", path: dir.file($0)) }
        let written = try CSVExporter(
            mappings: try MappingSet.parse(Self.mappings, sourceNames: ["web"]), inputs: inputs,
            options: ExportOptions(outputDirectory: dir.file("out"), until: ExportTime.parse("2030-01-01"))
        ).run()

        for path in [dir.file("out"), dir.file("out/"), dir.file("out/manifest.json")] {
            let read = try ExportManifest.read(path: path)
            #expect(read.inputs == written.inputs)
            #expect(read.until == "2030-01-01T00:00:00Z")
            #expect(read.files == written.files)
        }
        let plain = try #require(written.inputs.first { $0.path.hasSuffix("web.log") })
        #expect(
            !plain.compressed && plain.endOffset == UInt64((5..<8).map { Self.click($0) + "\n" }.joined().utf8.count))
        #expect(plain.unterminatedBytes == 20 && plain.fingerprint != nil && plain.inode != 0)
        let compressed = try #require(written.inputs.first { $0.path.hasSuffix(".gz") })
        #expect(compressed.compressed && compressed.endOffset == UInt64(archive.utf8.count))
    }

    @Test func otherFilesAreNotManifests() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("empty/.keep", "")
        try dir.write("other.json", #"{"version": 1, "files": []}"#)
        try dir.write("newer.json", #"{"format": "personalize-bulk-csv", "version": 2}"#)
        try dir.write("damaged.json", #"{"format": "personalize-bulk-csv", "version": 1, "inputs": []}"#)
        try dir.write("text.json", "not json")
        let cases = [
            (dir.file("missing"), "no such file"), (dir.file("empty"), "is this an export directory"),
            (dir.file("other.json"), "not an export manifest (format missing"),
            (dir.file("newer.json"), "manifest version 2"),
            (dir.file("damaged.json"), "damaged export manifest (missing"),
            (dir.file("text.json"), "not an export manifest"),
        ]
        for (path, message) in cases {
            #expect {
                _ = try ExportManifest.read(path: path)
            } throws: { error in
                "\(error)".contains(message)
            }
        }
    }
}
