import AgentConfig
import ArgumentParser
import CMemory
import Foundation
import Logging
import Metrics
import Pipeline

@main
enum Entry {
    static func main() async {
        limitMallocArenas()
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let first = arguments.first,
            let hint = CommandHint.unknownCommand(first, known: PersonalizeTail.commandNames)
        {
            FileHandle.standardError.write(
                Data(
                    "Error: \(hint)\nUsage: personalize-tail <subcommand>\n  See 'personalize-tail --help' for more information.\n"
                        .utf8))
            exit(64)  // EX_USAGE, as argument-parser's usage errors
        }
        await PersonalizeTail.main()
    }

    /// With glibc's malloc (the binary links jemalloc when the build machine has it): glibc gives each busy thread
    /// its own malloc arena (up to 8 per core), each holding freed memory of its own; two are plenty for an agent
    /// with two busy threads, and keep resident memory low. `MALLOC_ARENA_MAX` in the environment still wins.
    static func limitMallocArenas() {
        guard allocator == "glibc" else { return }
        if ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil { _ = pt_limit_malloc_arenas(2) }
    }

    /// The malloc the process uses (logged at start-up).
    static let allocator = String(cString: pt_allocator_name())
}

struct PersonalizeTail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "personalize-tail",
        abstract: "Ships JSON-lines and gzipped application logs to Amazon Personalize.",
        discussion: """
            Follows the log files named in config.json, maps each record to a Personalize event, item, user, \
            action or action interaction, and delivers them with PutEvents/PutItems/PutUsers/... Checkpoints move \
            only past records the service acknowledged or that were written to the dead-letter file.
            """,
        version: BuildInfo.versionLine,
        subcommands: [
            Run.self, Validate.self, Explain.self, Export.self, Status.self, Checkpoint.self, Inspect.self, Import.self,
        ]
    )
}

extension PersonalizeTail {
    static var commandNames: [String] { configuration.subcommands.map { $0._commandName } + ["help"] }
}

/// "did you mean" for a mistyped command.
enum CommandHint {
    /// A message when `word` is not a command but is close to one; nil otherwise (options, known commands, and
    /// words far from any command are left to argument-parser).
    static func unknownCommand(_ word: String, known: [String]) -> String? {
        guard !word.hasPrefix("-"), !known.contains(word) else { return nil }
        let scored = known.map { ($0, distance(word.lowercased(), $0)) }.sorted { $0.1 < $1.1 }
        guard let best = scored.first, best.1 <= max(1, min(2, word.count / 3)) || best.0.hasPrefix(word.lowercased())
        else { return nil }
        return "unknown command '\(word)'; did you mean '\(best.0)'?"
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(1, b.count) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}

/// Flags every command shares.
struct CommonOptions: ParsableArguments {
    @Option(
        name: [.customShort("c"), .customLong("config")],
        help:
            "Path of the configuration file (default: $PERSONALIZE_TAIL_CONFIG, then /etc/personalize-tail/config.json)."
    )
    var configOption: String?

    /// `--config`, else `$PERSONALIZE_TAIL_CONFIG`, else `/etc/personalize-tail/config.json`.
    var config: String {
        if let configOption { return configOption }
        if let env = ProcessInfo.processInfo.environment["PERSONALIZE_TAIL_CONFIG"], !env.isEmpty { return env }
        return "/etc/personalize-tail/config.json"
    }

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Log format on stderr: text or json.")
    var logFormat: LogFormat = .text

    /// The configuration, or the error reported (in the log format) and exit status 2: the one way every command
    /// loads it. `onFailure` gets the message first (`run` also writes it to its `--report` file).
    func loadConfig(onFailure: (String) -> Void = { _ in }) throws -> AgentConfig {
        do {
            return try AgentConfig.load(path: config)
        } catch {
            onFailure("\(error)")
            reportError("\(error)")
            throw ExitCode(ExitStatus.configuration.rawValue)
        }
    }

    /// An error on stderr: `personalize-tail: message`, or one JSON object with `--log-format json`.
    func reportError(_ message: String) { report(.error, message) }

    /// A line on stderr for a command without a logger (status, checkpoint, import, export, inspect): in text
    /// `personalize-tail: message` (`personalize-tail: warning: message` for a warning), with `--log-format json` one
    /// JSON object with the time, level and message, like every log line of `run`.
    func report(_ level: Logger.Level, _ message: String) {
        let line =
            logFormat == .json
            ? StderrLogHandler.jsonLine(level: level, message: message)
            : "personalize-tail: \(level == .warning ? "warning: " : "")\(message)"
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    func bootstrapLogging() -> Logger {
        let level = logLevel
        let format = logFormat
        LoggingSystem.bootstrap { label in
            var handler = StderrLogHandler(label: label, format: format)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "personalize-tail")
    }
}

// swift-log's level and ArgumentParser's protocol are both other packages' types; the option needs the conformance.
// swift-format-ignore: AvoidRetroactiveConformances
extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LogFormat: ExpressibleByArgument {}
