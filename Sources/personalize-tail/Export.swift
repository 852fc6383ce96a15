import AgentConfig
import ArgumentParser
import BulkExport
import Foundation
import PersonalizeModel
import Pipeline
import S3

/// `personalize-tail export --format csv --output DIR`: the history as Personalize bulk-import CSV files.
struct Export: AsyncParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case csv
    }

    static let configuration = CommandConfiguration(
        abstract: "Write the logs' records as Amazon Personalize bulk-import CSV files (for a dataset import job).",
        discussion: """
            Reads every file the configured sources name (plain or gzip), maps each line with the configured \
            mappings and writes interactions-NNNNN.csv, items-NNNNN.csv, users-NNNNN.csv, actions-NNNNN.csv and \
            action_interactions-NNNNN.csv into --output, each with a header row and split below --max-file-bytes, \
            plus rejected.jsonl (lines and records that cannot be rows, with their path and offset) and \
            manifest.json. Sends nothing, needs no AWS credentials and never touches the agent's checkpoints. \
            With --to s3://bucket/prefix/ the CSV files stream into S3 instead (multipart uploads of --part-size, \
            one folder per dataset: prefix/interactions/interactions-00001.csv ...; manifest.json last), with the \
            agent's AWS settings; --output then keeps rejected.jsonl, a copy of manifest.json and, until the \
            upload is complete, upload-state.json: rerun the same command to resume, or add --abort to abort. \
            Exit codes: 0 everything read was exported (or skipped as unmatched); 2 configuration, output or \
            upload error; 3 finished, but some lines or records were rejected.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Output format; only csv (the Personalize bulk-import CSV).")
    var format: Format = .csv

    @Option(
        name: .shortAndLong,
        help: "Directory for the CSV files, rejected.jsonl and manifest.json (created; must hold no earlier export).")
    var output: String

    @Option(
        help: "Interactions at or after this time only: ISO 8601 (2024-01-15, 2024-01-15T12:00:00Z) or epoch seconds.")
    var since: String?

    @Option(help: "Interactions before this time only: ISO 8601 or epoch seconds.")
    var until: String?

    @Option(
        help: "Largest CSV file in bytes, header included (default 1000000000: one file fits an INCREMENTAL import).")
    var maxFileBytes: Int = ExportOptions.defaultMaxFileBytes

    @Option(
        parsing: .singleValue,
        help:
            "A metadata column of the interactions file (repeatable, at most 5): NUMBER_OF_RATINGS or numberOfRatings. Default: every event property."
    )
    var interactionMetadata: [String] = []

    @Option(help: "Stream the CSV files to this S3 location (s3://bucket/prefix/) instead of --output.")
    var to: String?

    @Option(
        help:
            "Multipart upload part size in MiB (5-5120); one part per open file is held in memory, plus one in flight.")
    var partSize: Int = 8

    @Option(help: "S3 endpoint URL (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else the region's).")
    var s3Endpoint: String?

    @Flag(help: "Address the bucket in the path (https://host/bucket/key) instead of as a virtual host.")
    var s3PathStyle = false

    @Flag(help: "With --to: abort the interrupted export's uploads, delete the files it completed, and exit.")
    var abort = false

    @Flag(help: "Also export the unterminated last line of plain files (by default left to the live agent).")
    var includeUnterminatedLines = false

    func validate() throws {
        if maxFileBytes < 1024 { throw ValidationError("--max-file-bytes must be at least 1024") }
        if let since, ExportTime.parse(since) == nil {
            throw ValidationError("--since \(since): expected ISO 8601 (2024-01-15T12:00:00Z) or epoch seconds")
        }
        if let until, ExportTime.parse(until) == nil {
            throw ValidationError("--until \(until): expected ISO 8601 (2024-01-15T12:00:00Z) or epoch seconds")
        }
        if let s = since.flatMap(ExportTime.parse), let u = until.flatMap(ExportTime.parse), u <= s {
            throw ValidationError("--until must be later than --since")
        }
        if to == nil, abort { throw ValidationError("--abort goes with --to s3://bucket/prefix/") }
        if let to { do { _ = try S3Location(url: to) } catch { throw ValidationError("--to \(error)") } }
        if !(5...5120).contains(partSize) {
            throw ValidationError("--part-size must be 5-5120 (MiB; S3's limits for a part)")
        }
        if to != nil, maxFileBytes / (partSize << 20) >= 10_000 {
            throw ValidationError(
                "--max-file-bytes / --part-size gives more than 10,000 parts (S3's limit); raise --part-size")
        }
        if interactionMetadata.count > 5 {
            throw ValidationError("--interaction-metadata: an Interactions dataset takes at most 5 metadata columns")
        }
    }

    func run() async throws {
        let config = try common.loadConfig()
        let inputs = ExportInput.expand(config.sources)
        let options = ExportOptions(
            outputDirectory: output, maxFileBytes: maxFileBytes, since: since.flatMap(ExportTime.parse),
            until: until.flatMap(ExportTime.parse),
            interactionMetadata: interactionMetadata.isEmpty ? nil : interactionMetadata,
            includeUnterminatedLines: includeUnterminatedLines)
        let started = Date()
        let manifest: ExportManifest
        var readiness: [String] = []
        var uploadSummary = ""
        do {
            if let to {
                let storage = S3ExportStorage(
                    client: try ExportS3.client(
                        config: config, endpoint: s3Endpoint, pathStyle: s3PathStyle,
                        environment: ProcessInfo.processInfo.environment),
                    location: try S3Location(url: to), partSize: partSize << 20, outputDirectory: output)
                if abort {
                    let done = try await ExportS3.onThread { try storage.abortAll() }
                    common.report(
                        .info, "export --abort \(to) aborted_uploads=\(done.aborted) deleted_objects=\(done.deleted)")
                    return
                }
                let mappings = config.mappings
                (manifest, readiness) = try await ExportS3.onThread {
                    let exporter = CSVExporter(mappings: mappings, inputs: inputs, options: options, storage: storage)
                    let manifest = try exporter.run()
                    return (manifest, exporter.readiness.report())
                }
                uploadSummary = " to=\(to) parts_sent=\(storage.partsSent) parts_reused=\(storage.partsReused)"
            } else {
                let exporter = CSVExporter(mappings: config.mappings, inputs: inputs, options: options)
                manifest = try exporter.run()
                readiness = exporter.readiness.report()
            }
        } catch {
            common.reportError("export failed: \(error)")
            throw ExitCode(ExitStatus.configuration.rawValue)
        }
        for warning in manifest.warnings {
            common.report(.warning, warning)
        }
        for file in manifest.files {
            let place = file.key.map { "s3://\(manifest.upload?.bucket ?? "")/\($0)" } ?? "\(output)/\(file.name)"
            print("\(place)\t\(file.rows) rows\t\(file.bytes) bytes")
        }
        let rows = manifest.counts.rows.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
            separator: " ")
        let rejected = manifest.counts.rejected.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            .joined(separator: ",")
        let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
        common.report(
            .info,
            """
            export files=\(inputs.count) lines=\(manifest.counts.lines) \(rows.isEmpty ? "rows=0" : rows) \
            unmatched=\(manifest.counts.unmatched)\(manifest.counts.filtered.map { " filtered=\($0)" } ?? "") \
            outside_time_range=\(manifest.counts.outsideTimeRange) \
            rejected=\(manifest.rejectedTotal)\(rejected.isEmpty ? "" : " (\(rejected))")\(uploadSummary) seconds=\(seconds)
            """)
        if manifest.counts.rows["interactions", default: 0] > 0 {
            for note in readiness { common.report(.info, note) }
        }
        if manifest.rejectedTotal > 0 { throw ExitCode(ExitStatus.deadLettered.rawValue) }
    }
}

extension ExportInput {
    /// The files the configured sources name now, each read as its source says (`export` and `inspect`).
    static func expand(_ sources: [SourceConfig]) -> [ExportInput] {
        expand(
            sources.map {
                (
                    name: $0.name, patterns: $0.paths, exclude: $0.exclude, maxLineBytes: $0.maxLineBytes,
                    envelope: $0.envelope, streams: $0.streams
                )
            })
    }
}
