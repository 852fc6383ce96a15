import Foundation
import Mapping
import PersonalizeModel
import Tailing
import Testing

@testable import Engine
@testable import Pipeline

/// The worker alone: whatever the chunk size and however the two threads share it, every line gets its own result,
/// equal to mapping it on one thread.
@Suite struct MappingWorkerTests {
    static func render(_ p: Premapped) -> String {
        switch p {
        case .blank: return "blank"
        case .invalid(let error): return "invalid \(error)"
        case .mapped(let results, let line):
            return "mapped \(line.count) "
                + results.map { r in
                    switch r {
                    case .record(let mapping, let encoded, let time):
                        "\(mapping) \(encoded.key) \(encoded.key.userId ?? "-") \(time.map { "\($0.epochMilliseconds)" } ?? "-") "
                            + String(decoding: encoded.element, as: UTF8.self)
                    case .failure(let mapping, let failure):
                        "\(mapping) failed \(failure)"
                    }
                }.joined(separator: " | ")
        }
    }

    @Test func chunksOfEverySizeMapLikeOneThread() throws {
        let mappings = try MappingSet.parse(
            ParallelMappingTests.mappings, sourceNames: ["app"], unmatched: .skip)
        #expect(MappingWorker.canSplit(mappings))
        let log = MixedLog(count: 1_500, seed: 5)
        var buffer: [UInt8] = []
        var spans: [(start: Int, count: Int)] = []
        for line in log.lines {
            spans.append((buffer.count, line.count))
            buffer.append(contentsOf: line)
            buffer.append(0x0A)
        }
        let context = RecordContext(sourceName: "app", path: "/x/app.log", fingerprint: "f00d")
        let single = Mapper(mappings: mappings)
        let engineMapper = Mapper(mappings: mappings)
        let worker = MappingWorker(mappings: mappings)
        defer { worker.close() }
        try buffer.withUnsafeBytes { raw in
            let lines = spans.map { span in
                FramedLine(
                    bytes: UnsafeRawBufferPointer(rebasing: raw[span.start..<(span.start + span.count)]),
                    offset: UInt64(span.start), end: UInt64(span.start + span.count + 1))
            }
            let expected = lines.map { line in
                var c = context
                c.offset = line.offset
                return Self.render(Premapped.make(line.bytes, context: c, mapper: single))
            }
            #expect(expected.contains { $0.hasPrefix("invalid") } && expected.contains { $0.contains("failed") })
            var rng = SplitMix(seed: 9)
            var start = 0
            var chunks = 0
            // Sizes below, at and above the hand-off threshold and the piece size, and whole reads.
            for size in [1, 15, 16, 17, 63, 64, 65, 100, 1_000] + (0..<60).map({ _ in Int(rng.next() % 300) + 1 }) {
                let end = min(start + size, lines.count)
                if start >= end { start = 0 }
                let chunk = Array(lines[start..<min(start + size, lines.count)])
                var got: [String] = []
                var order: [Int] = []
                worker.map(chunk, context: context, engineMapper: engineMapper) { i, result in
                    order.append(i)
                    got.append(Self.render(result))
                }
                // Each line handed over once, in order (the engine handles pieces as they are done).
                #expect(order == Array(0..<chunk.count))
                try #require(got.count == chunk.count)
                let want = Array(expected[start..<(start + chunk.count)])
                #expect(got == want, "chunk at \(start), \(chunk.count) lines")
                start += chunk.count
                chunks += 1
            }
            #expect(chunks == 69)
        }
    }
}
