import AgentConfig
import ArgumentParser
import BulkExport
import Foundation
import JSON
import Logging
import Pipeline

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow the configured logs and deliver their records (or, with --once, catch up and exit).",
        discussion: """
            Exit codes: 0 all delivered; 2 configuration, credential or permission error; 3 finished but some \
            records were dead-lettered; 4 stopped before everything was delivered (the rest is sent next time); \
            5 another agent holds the state directory.
            """)

    @OptionGroup var common: CommonOptions

    @Flag(help: "Catch up: read everything new, deliver it, save checkpoints and exit.")
    var once = false

    @Flag(
        help:
            "Print each request (one JSON object per line) instead of sending it. Needs no AWS account; moves no checkpoint."
    )
    var dryRun = false

    @Flag(help: "If another agent holds the state directory, wait for it instead of exiting with code 5.")
    var waitLock = false

    @Option(help: "Send only records whose mapped time is at or after this (ISO 8601 or epoch seconds).")
    var since: String?

    @Option(help: "Send only records whose mapped time is before this (ISO 8601 or epoch seconds).")
    var until: String?

    @Option(help: "Stop reading after this long (seconds, or with a unit: 90s, 30m, 2h); the rest is read next time.")
    var maxDuration: String?

    @Option(help: "Cap requests per second (all operations), to leave quota to a live agent during a backfill.")
    var maxRps: Double?

    @Option(help: "Write the catch-up summary to this file as JSON (for cron wrappers).")
    var report: String?

    @Flag(
        inversion: .prefixedNo,
        help: "Show catch-up progress on stderr (a bar on a terminal, a line every 10 s otherwise).")
    var progress = true

    func validate() throws {
        if let since, ExportTime.parse(since) == nil {
            throw ValidationError("--since \(since): use ISO 8601 (2026-11-01T00:00:00Z) or epoch seconds")
        }
        if let until, ExportTime.parse(until) == nil {
            throw ValidationError("--until \(until): use ISO 8601 (2026-11-01T00:00:00Z) or epoch seconds")
        }
        if let s = since.flatMap(ExportTime.parse), let u = until.flatMap(ExportTime.parse), u <= s {
            throw ValidationError("--until must be later than --since (the window [since, until) would be empty)")
        }
        if let maxRps, maxRps <= 0 {
            throw ValidationError("--max-rps must be a positive number of requests per second")
        }
        if let maxDuration, Self.seconds(maxDuration) == nil {
            throw ValidationError("--max-duration \(maxDuration): use seconds or 90s, 30m, 2h")
        }
    }

    /// Writes `--report FILE`, when asked for.
    func writeReport(_ value: JSONValue, _ logger: Logger) {
        guard let path = report else { return }
        let text = value.serialized + "\n"
        if !FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) {
            logger.error("cannot write --report file", metadata: ["path": "\(path)"])
        }
    }

    static func seconds(_ text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
        if let unit = text.last, let factor = units[unit], let value = Double(text.dropLast()), value > 0 {
            return value * factor
        }
        if let value = Double(text), value > 0 { return value }
        return nil
    }

    func run() async throws {
        let logger = common.bootstrapLogging()
        logger.debug("memory allocator", metadata: ["allocator": "\(Entry.allocator)"])
        let config = try common.loadConfig { message in
            writeReport(RunReportOutput.startupJSON(status: .configuration, error: message, dryRun: dryRun), logger)
        }
        let control = AgentControl()
        let options = RunOptions(
            once: once, dryRun: dryRun, waitLock: waitLock, control: control, since: since.flatMap(ExportTime.parse),
            until: until.flatMap(ExportTime.parse), maxDurationSeconds: maxDuration.flatMap(Self.seconds),
            maxRequestsPerSecond: maxRps)
        let reporter = ProgressReporter(control: control, format: common.logFormat)
        let progressTask = once && progress ? Task { await reporter.run() } : nil
        let report: RunReport
        do {
            report = try await Agent.run(config: config, options: options, logger: logger)
            progressTask?.cancel()
            await progressTask?.value
        } catch let error as StartupError {
            progressTask?.cancel()
            common.reportError(error.message)
            writeReport(RunReportOutput.startupJSON(status: error.status, error: error.message, dryRun: dryRun), logger)
            throw ExitCode(error.status.rawValue)
        }
        if case .fatal(let message) = report.outcome {
            logger.critical("stopped: \(message)")
        }
        if (once || dryRun) && common.logFormat == .json {
            var object = RunReportOutput.json(report, dryRun: dryRun)
            if case .object(var fields) = object {
                fields["message"] = .string("summary")
                object = .object(fields)
            }
            FileHandle.standardError.write(Data((object.serialized + "\n").utf8))
        } else if once || dryRun {
            let seconds = String(format: "%.1f", report.seconds)
            var text =
                "personalize-tail: summary \(report.stats.summaryLine) seconds=\(seconds)\(dryRun ? " (dry run)" : "")\n"
            if once && isatty(STDERR_FILENO) == 1 { text += RunReportOutput.table(report) + "\n" }
            FileHandle.standardError.write(Data(text.utf8))
        }
        writeReport(RunReportOutput.json(report, dryRun: dryRun), logger)
        let status = report.exitStatus
        if status != .delivered { throw ExitCode(status.rawValue) }
    }
}

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a configuration file and report every problem at once.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let config = try common.loadConfig()
        let files = config.sources.map { source in
            "\(source.name): \(source.paths.joined(separator: ", "))"
        }
        print(
            "\(common.config): valid; \(config.sources.count) source(s), \(config.mappings.names.count) mapping(s) (\(config.mappings.names.joined(separator: ", ")))"
        )
        for line in files { print("  source \(line)") }
        print("  state directory \(config.state.directory), dead letters \(config.deadLetter.path)")
        for check in SourceCheck.check(config) {
            print("  source \(check.source) matches \(check.files.count) file(s) now")
            for file in check.files.prefix(20) { print("    \(file)") }
            if check.files.count > 20 { print("    … and \(check.files.count - 20) more") }
            for problem in check.problems { print("  warning: \(problem)") }
        }
    }
}
