import ArgumentParser
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

    @Flag(help: "Print each request (one JSON object per line) instead of sending it. Needs no AWS account; moves no checkpoint.")
    var dryRun = false

    @Flag(help: "If another agent holds the state directory, wait for it instead of exiting with code 5.")
    var waitLock = false

    func run() async throws {
        let logger = common.bootstrapLogging()
        let config: AgentConfig
        do {
            config = try AgentConfig.load(path: common.config)
        } catch {
            FileHandle.standardError.write(Data("personalize-tail: \(error)\n".utf8))
            throw ExitCode(ExitStatus.configuration.rawValue)
        }
        let report: RunReport
        do {
            report = try await Agent.run(
                config: config, options: RunOptions(once: once, dryRun: dryRun, waitLock: waitLock), logger: logger)
        } catch let error as StartupError {
            FileHandle.standardError.write(Data("personalize-tail: \(error.message)\n".utf8))
            throw ExitCode(error.status.rawValue)
        }
        if case .fatal(let message) = report.outcome {
            logger.critical("stopped: \(message)")
        }
        if once || dryRun {
            let seconds = String(format: "%.1f", report.seconds)
            FileHandle.standardError.write(Data("personalize-tail: summary \(report.stats.summaryLine) seconds=\(seconds)\(dryRun ? " (dry run)" : "")\n".utf8))
        }
        let status = report.exitStatus
        if status != .delivered { throw ExitCode(status.rawValue) }
    }
}

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a configuration file and report every problem at once.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        do {
            let config = try AgentConfig.load(path: common.config)
            let files = config.sources.map { source in
                "\(source.name): \(source.paths.joined(separator: ", "))"
            }
            print("\(common.config): valid; \(config.sources.count) source(s), \(config.mappings.names.count) mapping(s) (\(config.mappings.names.joined(separator: ", ")))")
            for line in files { print("  source \(line)") }
            print("  state directory \(config.state.directory), dead letters \(config.deadLetter.path)")
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(ExitStatus.configuration.rawValue)
        }
    }
}
