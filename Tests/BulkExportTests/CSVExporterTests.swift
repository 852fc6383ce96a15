import BulkExport
import Foundation
import JSON
import Mapping
import PersonalizeModel
import TestSupport
import Testing

private let mappingsJSON = """
    {
      "clicks": {
        "target": "event",
        "trackingId": "11111111-2222-3333-4444-555555555555",
        "when": {"field": "type", "equals": "click"},
        "fields": {
          "userId": "user",
          "sessionId": "sid",
          "eventType": "action",
          "itemId": "item",
          "eventValue": "price",
          "sentAt": "ts",
          "impression": {"path": "shown", "transform": [{"split": ","}]},
          "properties": {
            "NUMBER_OF_RATINGS": "ratings",
            "categories": {"path": "cats", "transform": [{"join": "|"}]},
            "note": "note"
          }
        }
      },
      "catalog": {
        "target": "item",
        "datasetArn": "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS",
        "when": {"field": "type", "equals": "product"},
        "fields": {"itemId": "item", "properties": {"PRICE": "price", "GENRES": "genres"}}
      },
      "profiles": {
        "target": "user",
        "datasetArn": "arn:aws:personalize:us-east-1:123456789012:dataset/shop/USERS",
        "when": {"field": "type", "equals": "profile"},
        "fields": {"userId": "user", "properties": {"membershipLevel": "level"}}
      }
    }
    """

private let interactionsHeader = [
    "USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE", "IMPRESSION", "NUMBER_OF_RATINGS", "CATEGORIES",
    "NOTE",
]

/// One click line. `ts` is ISO 8601 with milliseconds, so TIMESTAMP must drop them.
private func click(
    user: String? = "u1", item: String? = "i1", action: String = "View", ts: String = "2024-01-15T12:00:00.750Z",
    extra: String = ""
) -> String {
    var parts = [
        "\"type\":\"click\"", "\"sid\":\"s1\"", "\"action\":\(JSONValue.string(action).serialized)", "\"ts\":\"\(ts)\"",
    ]
    if let user { parts.append("\"user\":\(JSONValue.string(user).serialized)") }
    if let item { parts.append("\"item\":\(JSONValue.string(item).serialized)") }
    if !extra.isEmpty { parts.append(extra) }
    return "{" + parts.joined(separator: ",") + "}"
}

private func export(
    _ dir: TemporaryDirectory, files: [String], options: (inout ExportOptions) -> Void = { _ in }
) throws -> ExportManifest {
    let mappings = try MappingSet.parse(mappingsJSON, sourceNames: ["web"])
    var o = ExportOptions(outputDirectory: dir.file("out"))
    options(&o)
    let inputs = files.map { ExportInput(sourceName: "web", path: dir.file($0), maxLineBytes: 4096) }
    return try CSVExporter(mappings: mappings, inputs: inputs, options: o).run()
}

private func rejectedLines(_ dir: TemporaryDirectory) throws -> [JSONValue] {
    try dir.read("out/rejected.jsonl").split(separator: "\n").map { try JSONParser.parse(String($0)) }
}

@Suite struct CSVExporterTests {
    @Test func interactionsFollowTheBulkImportColumnRules() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write(
            "a.jsonl",
            [
                click(extra: #""price":19.99,"shown":"i1, i2,i3","ratings":42,"cats":["books","sci-fi"]"#),
                click(
                    user: "u2", item: "item,with,commas", action: #"say "hi""#, ts: "1705320001",
                    extra: #""note":"two\nlines and a \"quote\"""#),
                click(user: "u3", item: "i9", ts: "2024-01-15T12:00:02Z", extra: #""note":"cr\r\nlf","price":"5""#),
            ].joined(separator: "\n") + "\n")
        let manifest = try export(dir, files: ["a.jsonl"])

        let files = try IndependentCSV.read(dir.file("out"))
        #expect(files.keys.sorted() == ["interactions-00001.csv"])
        let (rows, headersOK) = IndependentCSV.rows(files, prefix: "interactions", header: interactionsHeader)
        #expect(headersOK)
        #expect(
            rows == [
                ["u1", "i1", "1705320000", "View", "19.99", "i1|i2|i3", "42", "books|sci-fi", ""],
                ["u2", "item,with,commas", "1705320001", #"say "hi""#, "", "", "", "", "two\nlines and a \"quote\""],
                ["u3", "i9", "1705320002", "View", "5", "", "", "", "cr\r\nlf"],
            ])
        #expect(manifest.counts.rows == ["interactions": 3])
        #expect(manifest.rejectedTotal == 0)
        #expect(manifest.timeRange?.first == 1_705_320_000)
        #expect(manifest.timeRange?.last == 1_705_320_002)
        #expect(manifest.files.map(\.rows) == [3])
        #expect(manifest.files.first?.destination == "11111111-2222-3333-4444-555555555555")
        // Quoted as RFC 4180 says, byte for byte: only fields that need it, inner quotes doubled.
        let raw = try dir.read("out/interactions-00001.csv")
        #expect(raw.hasPrefix(interactionsHeader.joined(separator: ",") + "\n"))
        #expect(raw.contains(#"u2,"item,with,commas",1705320001,"say ""hi""",,,,,"two"#))
        #expect(try dir.read("out/rejected.jsonl").isEmpty)
        // rejected.jsonl holds raw log lines: owner-only, like the agent's dead-letter file.
        let mode = try FileManager.default.attributesOfItem(atPath: dir.file("out/rejected.jsonl"))[.posixPermissions]
        #expect(mode as? Int == 0o600)
    }

    /// EVENT_VALUE keeps the log's digits (never rounded through a Double); an exponent is written out as plain
    /// decimal digits, which every CSV reader takes (Python's `float()` reads them back to the same value).
    @Test(arguments: [
        ("345.0", "345.0"), ("19.990", "19.990"), ("-0.50", "-0.50"), ("7", "7"), ("1e3", "1000"), ("2.5E-2", "0.025"),
        ("1.50e+1", "15.0"), ("12345678901234567890", "12345678901234567890"), (#""4.50""#, "4.50"), (#""1e2""#, "100"),
    ])
    func eventValueKeepsTheLogsDigits(raw: String, expected: String) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("a.jsonl", click(extra: #""price":\#(raw)"#) + "\n")
        _ = try export(dir, files: ["a.jsonl"])
        let files = try IndependentCSV.read(dir.file("out"))
        let (rows, _) = IndependentCSV.rows(files, prefix: "interactions", header: interactionsHeader)
        #expect(rows.first?[4] == expected)
        #expect(Double(expected) == Double(raw.replacingOccurrences(of: "\"", with: "")))
    }

    @Test func itemsAndUsersGetTheirOwnFilesWithPropertyColumns() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write(
            "catalog.jsonl",
            """
            {"type":"product","item":"i1","price":9.5,"genres":["a","b","c"]}
            {"type":"product","item":"i2","genres":"solo"}
            {"type":"profile","user":"u1","level":"gold"}
            {"type":"other"}

            """)
        let manifest = try export(dir, files: ["catalog.jsonl"])
        let files = try IndependentCSV.read(dir.file("out"))
        #expect(files.keys.sorted() == ["items-00001.csv", "users-00001.csv"])
        #expect(
            files["items-00001.csv"] == [["ITEM_ID", "PRICE", "GENRES"], ["i1", "9.5", "a|b|c"], ["i2", "", "solo"]])
        #expect(files["users-00001.csv"] == [["USER_ID", "MEMBERSHIP_LEVEL"], ["u1", "gold"]])
        #expect(manifest.counts.unmatched == 1)
        #expect(manifest.counts.lines == 4)
        #expect(manifest.timeRange == nil)
    }

    @Test func gzipAndPlainFilesAreBothRead() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let old = (0..<50).map { click(user: "old\($0)", ts: "\(1_700_000_000 + $0)") }.joined(separator: "\n")
        try dir.writeGzip("app.jsonl.1.gz", old)  // no final newline: a gzip file's last line still counts
        try dir.write("app.jsonl", click(user: "new", ts: "1800000000") + "\n")
        let manifest = try export(dir, files: ["app.jsonl.1.gz", "app.jsonl"])
        let (rows, ok) = IndependentCSV.rows(
            try IndependentCSV.read(dir.file("out")), prefix: "interactions", header: interactionsHeader)
        #expect(ok)
        #expect(rows.map { $0[0] } == (0..<50).map { "old\($0)" } + ["new"])
        #expect(rows.map { $0[2] } == (0..<50).map { "\(1_700_000_000 + $0)" } + ["1800000000"])
        #expect(manifest.inputs.map(\.compressed) == [true, false])
        #expect(manifest.inputs.first?.endOffset == UInt64(old.utf8.count))
        #expect(manifest.inputs.first?.fingerprint != nil)
    }

    @Test func filesAreSplitUnderTheSizeLimitEachWithAHeader() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let lines = (0..<40).map { click(user: "user-\($0)", item: "item-\($0)", ts: "\(1_700_000_000 + $0)") }
        try dir.write("a.jsonl", lines.joined(separator: "\n") + "\n")
        let limit = 300
        let manifest = try export(dir, files: ["a.jsonl"]) { $0.maxFileBytes = limit }
        let files = try IndependentCSV.read(dir.file("out"))
        #expect(files.count > 3)
        #expect(files.keys.allSatisfy { $0.hasPrefix("interactions-") })
        let (rows, ok) = IndependentCSV.rows(files, prefix: "interactions", header: interactionsHeader)
        #expect(ok)
        #expect(rows.map { $0[0] } == (0..<40).map { "user-\($0)" })
        for file in manifest.files {
            let size = try FileManager.default.attributesOfItem(atPath: dir.file("out/" + file.name))[.size] as? Int
            #expect(size == file.bytes)
            #expect(file.bytes <= limit)
            #expect(file.rows == files[file.name]!.count - 1)
        }
        #expect(
            manifest.files.map(\.name) == (1...manifest.files.count).map { String(format: "interactions-%05d.csv", $0) }
        )
        #expect(manifest.files.map(\.rows).reduce(0, +) == 40)
    }

    @Test func sinceIsInclusiveUntilIsExclusiveAndCatalogIsAlwaysExported() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let times = [
            "2024-01-01T00:00:00Z", "2024-01-01T23:59:59.999Z", "2024-01-02T00:00:00Z",
            "2024-01-02T12:00:00Z", "2024-01-03T00:00:00Z", "2024-01-04T00:00:00Z",
        ]
        var lines = times.enumerated().map { click(user: "u\($0.offset)", ts: $0.element) }
        lines.append(#"{"type":"product","item":"p1"}"#)
        try dir.write("a.jsonl", lines.joined(separator: "\n") + "\n")
        let since = try #require(ExportTime.parse("2024-01-02"))
        let until = try #require(ExportTime.parse("1704240000"))  // 2024-01-03T00:00:00Z
        let manifest = try export(dir, files: ["a.jsonl"]) {
            $0.since = since
            $0.until = until
        }
        let files = try IndependentCSV.read(dir.file("out"))
        let (rows, _) = IndependentCSV.rows(files, prefix: "interactions", header: interactionsHeader)
        #expect(rows.map { $0[0] } == ["u2", "u3"])
        #expect(files["items-00001.csv"] == [["ITEM_ID", "PRICE", "GENRES"], ["p1", "", ""]])
        #expect(manifest.counts.outsideTimeRange == 4)
        #expect(manifest.since == "2024-01-02T00:00:00Z")
        #expect(manifest.until == "2024-01-03T00:00:00Z")
        #expect(manifest.timeRange?.firstISO == "2024-01-02T00:00:00Z")
    }

    @Test func rowsThatCannotBeImportedAreRejectedWithTheirPlace() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let lines = [
            click(user: "ok"),
            click(user: nil),
            click(item: nil),
            #"{"type":"click", broken"#,
            #"{"type":"click","sid":"s","ts":"2024-01-15T12:00:00Z","user":"u"}"#,  // no eventType
            String(repeating: "x", count: 5000),
            click(user: "ok2"),
        ]
        try dir.write("a.jsonl", lines.joined(separator: "\n") + "\n")
        let manifest = try export(dir, files: ["a.jsonl"])
        let (rows, _) = IndependentCSV.rows(
            try IndependentCSV.read(dir.file("out")), prefix: "interactions", header: interactionsHeader)
        #expect(rows.map { $0[0] } == ["ok", "ok2"])
        #expect(
            manifest.counts.rejected == [
                "missing_user_id": 1, "missing_item_id": 1, "malformed_json": 1, "mapping_failed": 1,
                "line_too_long": 1,
            ])
        var offsets: [UInt64] = []
        var at: UInt64 = 0
        for line in lines {
            offsets.append(at)
            at += UInt64(line.utf8.count + 1)
        }
        let rejected = try rejectedLines(dir)
        #expect(
            rejected.map { $0["kind"]?.stringValue } == [
                "missing_user_id", "missing_item_id", "malformed_json", "mapping_failed", "line_too_long",
            ])
        #expect(rejected.map { $0["offset"]?.numberValue?.int64 } == offsets[1...5].map { Optional(Int64($0)) })
        #expect(
            rejected.allSatisfy { $0["path"]?.stringValue == dir.file("a.jsonl") && $0["source"]?.stringValue == "web" }
        )
        #expect(rejected[0]["line"]?.stringValue == lines[1])
        #expect(rejected[0]["mapping"]?.stringValue == "clicks")
        #expect(rejected[3]["reason"]?.stringValue?.hasPrefix("eventType: required") == true)
        #expect(rejected[4]["lineTruncated"] == .bool(true))
        // Every line is accounted for: exported, rejected or unmatched.
        #expect(manifest.counts.lines == lines.count)
        #expect(manifest.inputs.first?.endOffset == at)
    }

    @Test func anUnterminatedLastLineIsLeftForTheLiveAgent() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let first = click(user: "done")
        try dir.write("a.jsonl", first + "\n" + click(user: "being-written"))
        let manifest = try export(dir, files: ["a.jsonl"])
        let (rows, _) = IndependentCSV.rows(
            try IndependentCSV.read(dir.file("out")), prefix: "interactions", header: interactionsHeader)
        #expect(rows.map { $0[0] } == ["done"])
        #expect(manifest.inputs.first?.endOffset == UInt64(first.utf8.count + 1))
        #expect(manifest.inputs.first?.unterminatedBytes == click(user: "being-written").utf8.count)

        let again = try TemporaryDirectory()
        defer { again.remove() }
        try again.write("a.jsonl", first + "\n" + click(user: "being-written"))
        _ = try export(again, files: ["a.jsonl"]) { $0.includeUnterminatedLines = true }
        let (all, _) = IndependentCSV.rows(
            try IndependentCSV.read(again.file("out")), prefix: "interactions", header: interactionsHeader)
        #expect(all.map { $0[0] } == ["done", "being-written"])
    }

    @Test func chosenMetadataColumnsAndSecondTrackerGetTheirOwnFiles() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let mappings = try MappingSet.parse(
            """
            {
              "a": {"target": "event", "trackingId": "tracker-a", "when": {"field": "t", "equals": "a"},
                    "fields": {"userId": "u", "itemId": "i", "sessionId": "s", "eventType": {"const": "click"},
                               "sentAt": "ts", "properties": {"numberOfRatings": "r", "COLOR": "c"}}},
              "b": {"target": "event", "trackingId": "tracker-b", "when": {"field": "t", "equals": "b"},
                    "fields": {"userId": "u", "itemId": "i", "sessionId": "s", "eventType": {"const": "buy"},
                               "sentAt": "ts"}}
            }
            """)
        try dir.write(
            "x.jsonl",
            """
            {"t":"a","u":"u1","i":"i1","s":"s","ts":1700000000,"r":3,"c":"red"}
            {"t":"b","u":"u2","i":"i2","s":"s","ts":1700000001}

            """)
        let options = ExportOptions(outputDirectory: dir.file("out"), interactionMetadata: ["COLOR"])
        let manifest = try CSVExporter(
            mappings: mappings, inputs: [ExportInput(sourceName: "x", path: dir.file("x.jsonl"))], options: options
        ).run()
        let files = try IndependentCSV.read(dir.file("out"))
        let fixed = Array(interactionsHeader.prefix(6))
        #expect(
            files["interactions-00001.csv"] == [fixed + ["COLOR"], ["u1", "i1", "1700000000", "click", "", "", "red"]])
        #expect(
            files["interactions-dataset2-00001.csv"] == [
                fixed + ["COLOR"], ["u2", "i2", "1700000001", "buy", "", "", ""],
            ])
        #expect(Set(manifest.files.map(\.destination)) == ["tracker-a", "tracker-b"])
    }

    @Test func anEarlierExportIsNeverOverwritten() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("a.jsonl", click() + "\n")
        _ = try export(dir, files: ["a.jsonl"])
        #expect(throws: ExportError.self) { try export(dir, files: ["a.jsonl"]) }
        let manifest = try JSONParser.parse(try dir.read("out/manifest.json"))
        #expect(manifest["counts"]?["rows"]?["interactions"]?.numberValue?.int64 == 1)
        #expect(manifest["format"]?.stringValue == "personalize-bulk-csv")
    }

    @Test func exportInputsAreFoundLikeTheLiveAgentFindsThem() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        for name in ["app.jsonl", "app.jsonl.2.gz", "app.jsonl.10.gz", "app.tmp", "other.jsonl"] {
            try dir.write("logs/" + name, "")
        }
        let inputs = ExportInput.expand([
            (name: "web", patterns: [dir.file("logs/app*")], exclude: ["*.tmp"], maxLineBytes: 100),
            (name: "all", patterns: [dir.file("logs/*")], exclude: [], maxLineBytes: 200),
        ])
        #expect(
            inputs.map { ($0.path as NSString).lastPathComponent } == [
                "app.jsonl", "app.jsonl.2.gz", "app.jsonl.10.gz", "app.tmp", "other.jsonl",
            ])
        #expect(inputs.map(\.sourceName) == ["web", "web", "web", "all", "all"])
    }

    @Test(arguments: [
        ("2024-01-15", Int64(1_705_276_800_000)),
        ("2024-01-15T12:00:00Z", 1_705_320_000_000),
        ("2024-01-15T12:00:00.250Z", 1_705_320_000_250),
        ("2024-01-15T13:00:00+01:00", 1_705_320_000_000),
        ("1705320000", 1_705_320_000_000),
        ("1705320000.5", 1_705_320_000_500),
    ])
    func timeBoundsAreISO8601OrEpochSeconds(text: String, millis: Int64) {
        #expect(ExportTime.parse(text)?.epochMilliseconds == millis)
    }

    @Test func nonsenseTimesAreRefused() {
        #expect(ExportTime.parse("yesterday") == nil)
        #expect(ExportTime.parse("") == nil)
        #expect(ExportTime.parse("2024-13-45") == nil)
    }
}
