import AgentConfig
import ArgumentParser
import BulkExport
import ExportHandover
import Foundation
import Pipeline

/// `personalize-tail checkpoint --from-export DIR`: start the live agent where a bulk export ended.
///
/// The glue between the two modules lives here: BulkExport reads its own manifest, Pipeline writes checkpoints
/// from plain inputs, and neither depends on the other.
struct Checkpoint: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the agent's checkpoints from a bulk export's manifest, so that it sends only what came after.",
        discussion: """
            For each file the export read, writes a checkpoint at the export's end offset into state.directory, \
            after checking that the file is still the one exported (same device and inode, or renamed in its \
            directory, and the same first bytes). Takes the state lock: stop the agent first. Refuses exports made \
            with --until, files that changed since the export, and files that already have a checkpoint; --force \
            accepts the first, skips the second and replaces the third. Exit codes: 0 written; 2 refused or \
            configuration error (nothing written); 5 another personalize-tail holds the state directory.
            """)

    @OptionGroup var common: CommonOptions

    @Option(name: .customLong("from-export"), help: "The export directory (or its manifest.json).")
    var fromExport: String

    @Flag(help: "Hand over anyway: accept an --until export, skip changed files, replace existing checkpoints.")
    var force = false

    func run() async throws {
        func fail(_ message: String, _ status: ExitStatus) -> ExitCode {
            common.reportError(message)
            return ExitCode(status.rawValue)
        }
        let config = try common.loadConfig()
        let manifest: ExportManifest
        do {
            manifest = try ExportManifest.read(path: fromExport)
        } catch {
            throw fail("\(error)", .configuration)
        }
        let report: ExportHandover.Report
        do {
            report = try ExportHandover.run(
                inputs: manifest.inputs.map(ExportHandover.Input.init), until: manifest.until,
                stateDirectory: config.state.directory, force: force)
        } catch {
            throw fail(error.message, error.status)
        }
        for warning in report.warnings {
            common.report(.warning, warning)
        }
        for c in report.handedOver {
            print("\(c.path)\toffset \(c.offset)\(c.compressed ? (c.finished ? "\tgzip, finished" : "\tgzip") : "")")
        }
        common.report(
            .info,
            """
            checkpoint from-export files=\(report.handedOver.count) bytes=\(report.bytes) \
            unchanged=\(report.unchanged.count) replaced=\(report.replaced.count) skipped=\(report.skipped.count) \
            left_to_agent=\(report.leftToAgent.count) state=\(config.state.directory)
            """)
    }
}

extension ExportHandover.Input {
    init(_ input: ExportManifest.Input) {
        self.init(
            path: input.path, compressed: input.compressed, fingerprint: input.fingerprint,
            fingerprintLength: input.fingerprintLength, device: input.device, inode: input.inode,
            endOffset: input.endOffset)
    }
}
