import ArgumentParser
import Logging
import Pipeline
import CMemory
import Foundation

@main
enum Entry {
    static func main() async {
        limitMallocArenas()
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
        version: Version.current,
        subcommands: [Run.self, Validate.self, Explain.self, Export.self, Status.self, Checkpoint.self, Inspect.self, Import.self]
    )
}

/// Flags every command shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Path of the configuration file.")
    var config: String = "config.json"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Log format on stderr: text or json.")
    var logFormat: LogFormat = .text

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

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LogFormat: ExpressibleByArgument {}
