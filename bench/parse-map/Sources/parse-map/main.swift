import Foundation
import JSON
import Mapping
import PersonalizeModel

// usage: parse-map CONFIG.json LOG.jsonl [REPEATS]
// Loads the log into memory, then times, each over every line: parse only; parse + map; parse + map + encode
// (each record in its request form, as the agent does; and RequestBody per 10 consecutive records of one batch key). Prints records/s for each (best of REPEATS).
let args = CommandLine.arguments
let configText = try String(contentsOfFile: args[1], encoding: .utf8)
let configValue = try JSONParser.parse(configText)
let reader = ConfigReader()
let mappings = MappingSet.parse(configValue["mappings"], reader: reader, sourceNames: ["web"])
try reader.throwIfIssues()
let mapper = Mapper(mappings: mappings)
let data = try Data(contentsOf: URL(fileURLWithPath: args[2]))
let repeats = args.count > 3 ? Int(args[3])! : 3
let bytes = [UInt8](data)
var lines: [Range<Int>] = []
var start = 0
for (i, b) in bytes.enumerated() where b == 0x0A {
    lines.append(start..<i)
    start = i + 1
}
print("lines: \(lines.count)")

// PARSE_MAP_ONLY=substring runs only the timings whose name contains it (for profiling one of them).
let only = ProcessInfo.processInfo.environment["PARSE_MAP_ONLY"]

func time(_ name: String, _ body: () -> Int) {
    if let only, !name.contains(only) { return }
    var best = Double.infinity
    var n = 0
    for _ in 0..<repeats {
        let t0 = DispatchTime.now().uptimeNanoseconds
        n = body()
        let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        best = min(best, dt)
    }
    print(
        String(
            format: "%-28@ %9.0f records/s  (%.2f µs/record, %d records, best of %d)",
            name as NSString, Double(lines.count) / best, best / Double(lines.count) * 1e6, n, repeats))
}

bytes.withUnsafeBytes { raw in
    time("parse") {
        var n = 0
        for r in lines { if (try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: raw[r]))) != nil { n += 1 } }
        return n
    }
    time("parse+map") {
        var n = 0
        for r in lines {
            guard let v = try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: raw[r])) else { continue }
            let ctx = RecordContext(
                sourceName: "web", path: "/bench/web.jsonl", fingerprint: "f", offset: UInt64(r.lowerBound))
            for result in mapper.apply(v, context: ctx) { if case .record = result { n += 1 } }
        }
        return n
    }
    time("parse+map+encode apply(line:)") {
        // What the agent runs per line: each record written in its request form (directly where it can).
        var n = 0
        for r in lines {
            let ctx = RecordContext(
                sourceName: "web", path: "/bench/web.jsonl", fingerprint: "f", offset: UInt64(r.lowerBound))
            guard let results = try? mapper.apply(line: UnsafeRawBufferPointer(rebasing: raw[r]), context: ctx) else {
                continue
            }
            for result in results { if case .record = result { n += 1 } }
        }
        return n
    }
    time("parse+map+encode(10)") {
        var n = 0
        var key: BatchKey?
        var batch: [Record] = []
        var encoded = 0
        for r in lines {
            guard let v = try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: raw[r])) else { continue }
            let ctx = RecordContext(
                sourceName: "web", path: "/bench/web.jsonl", fingerprint: "f", offset: UInt64(r.lowerBound))
            for result in mapper.apply(v, context: ctx) {
                guard case .record(_, let record) = result else { continue }
                n += 1
                if record.batchKey != key || batch.count == 10 {
                    if let key, !batch.isEmpty { encoded &+= RequestBody(key: key, records: batch).body.count }
                    batch.removeAll(keepingCapacity: true)
                    key = record.batchKey
                }
                batch.append(record)
            }
        }
        if let key, !batch.isEmpty { encoded &+= RequestBody(key: key, records: batch).body.count }
        return n
    }
}
