import AgentConfig
import Engine
import Foundation
import Logging
import PersonalizeModel
import Pipeline
import Synchronization
import Testing

/// The bundled examples (`config.json` over `examples/`) produce exactly the requests in `Golden/examples.jsonl`.
/// The test only compares; after an intended change, `scripts/update-golden.sh` regenerates the file from the dry
/// run (review its diff).
@Suite struct ExamplesGoldenTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    final class Capture: BatchSender, Sendable {
        let lines = Mutex<[String]>([])
        func send(_ batch: Batch) async -> BatchResult {
            let body = RequestBody(key: batch.key, pending: batch.records)
            lines.withLock { $0.append("\(body.operation.rawValue) " + String(decoding: body.body, as: UTF8.self)) }
            var result = BatchResult(fates: Array(repeating: .acknowledged, count: batch.records.count), requests: 1)
            result.accepted = 1
            return result
        }
    }

    @Test func bundledExamplesMatchTheGoldenRequests() async throws {
        let config = try AgentConfig.load(path: Self.root + "/config.json")
        let capture = Capture()
        let engine = try Engine(
            config: config, options: Engine.Options(once: true, readOnly: true, maxConcurrentRequests: 1),
            sender: capture,
            store: nil, deadLetters: nil, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let outcome = await engine.run()
        #expect(outcome == .completed)
        let produced = capture.lines.withLock { $0 }.joined(separator: "\n") + "\n"
        let golden = Self.root + "/Tests/PipelineTests/Golden/examples.jsonl"
        let expected = try String(contentsOfFile: golden, encoding: .utf8)
        #expect(produced == expected, "differs from \(golden): if intended, run scripts/update-golden.sh")
        #expect(engine.statistics.recordsSent == 332 && engine.statistics.skipped == 18)
    }
}
