import AgentConfig
import ArgumentParser
import BulkExport
import Foundation
import Pipeline

/// `personalize-tail inspect`: whether the logs would make a trainable dataset, before anything is exported or
/// uploaded.
struct Inspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report whether the logs' interactions meet Amazon Personalize's training requirements.",
        discussion: """
            Maps every configured source as `export` would, keeping nothing (rejected lines go to a temporary \
            rejected.jsonl, removed afterwards; use export to keep them), and prints the training-readiness report: \
            at least 1,000 interactions and at least 25 users with 2 or more, the time span, interactions per \
            event type, how many interactions name items and users the items and users data contains, the \
            interactions per user and per item, metadata fill rates, and warnings. Exit codes: 0 the minimums are \
            met; 2 configuration error; 6 the minimums are not met.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Interactions at or after this time only: ISO 8601 or epoch seconds.")
    var since: String?

    @Option(help: "Interactions before this time only: ISO 8601 or epoch seconds.")
    var until: String?

    func run() async throws {
        let config = try common.loadConfig()
        let inputs = ExportInput.expand(config.sources)
        let scratch = NSTemporaryDirectory() + "personalize-tail-inspect-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let options = ExportOptions(
            outputDirectory: scratch, since: since.flatMap(ExportTime.parse), until: until.flatMap(ExportTime.parse))
        let exporter = CSVExporter(
            mappings: config.mappings, inputs: inputs, options: options, storage: DiscardStorage())
        let manifest: ExportManifest
        do { manifest = try exporter.run() } catch {
            common.reportError("inspect failed: \(error)")
            throw ExitCode(ExitStatus.configuration.rawValue)
        }
        print(
            "files=\(inputs.count) lines=\(manifest.counts.lines) rejected=\(manifest.rejectedTotal) unmatched=\(manifest.counts.unmatched)"
        )
        for line in exporter.readiness.report() { print(line) }
        if !exporter.readiness.meetsMinimums { throw ExitCode(6) }
    }
}
