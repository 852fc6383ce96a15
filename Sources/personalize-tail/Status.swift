import AgentConfig
import ArgumentParser
import Foundation
import Metrics
import Pipeline

/// `personalize-tail status`: where each file stands, from the state directory. Safe while the agent runs: it
/// takes no lock and the agent replaces checkpoints.json atomically.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show each followed file's checkpoint, size, how far behind delivery is, and the dead letters.",
        discussion: """
            Reads checkpoints.json in state.directory without disturbing a running agent. BEHIND is the size minus \
            the offset for plain files; gzip files show done, partial or damaged at a compressed offset; gone means \
            the file is no longer at its path, replaced that another file now is.
            """)

    @OptionGroup var common: CommonOptions

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    func run() async throws {
        let config = try common.loadConfig()
        let report: StatusReport
        do {
            report = try StatusReport.read(
                stateDirectory: config.state.directory, deadLetterPath: config.deadLetter.path)
        } catch {
            common.reportError("\(error)")
            throw ExitCode(ExitStatus.internalError.rawValue)
        }
        print(json ? report.json : report.table, terminator: json ? "\n" : "")
        for check in SourceCheck.check(config) {
            for problem in check.problems {
                common.report(.warning, problem)
            }
        }
    }
}
