import AgentConfig
import ArgumentParser
import Foundation
import JSON
import Mapping
import PersonalizeModel
import Pipeline

struct Explain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what log lines become: which mappings match, the exact requests, and every validation problem.",
        discussion: "Give lines as arguments, or pipe them on standard input (one JSON document per line).")

    @OptionGroup var common: CommonOptions

    @Option(help: "Treat the lines as coming from this source (its name in config.json); default: the first source.")
    var source: String?

    @Argument(help: "Log lines to explain. Without any, lines are read from standard input.")
    var lines: [String] = []

    func run() async throws {
        let config = try common.loadConfig()
        let sourceName = source ?? config.sources.first?.name ?? ""
        guard config.sources.contains(where: { $0.name == sourceName }) else {
            throw ValidationError(
                "--source \(sourceName): no such source; the config has \(config.sources.map(\.name).joined(separator: ", "))"
            )
        }
        let mapper = Mapper(mappings: config.mappings)
        var input = lines
        if input.isEmpty {
            while let line = readLine(strippingNewline: true) { input.append(line) }
        }
        var problems = 0
        for (n, line) in input.enumerated() {
            print("line \(n + 1):")
            let value: JSONValue
            do {
                value = try JSONParser.parse(line)
            } catch {
                print("  dead-letter (malformed_json): \(error)")
                problems += 1
                continue
            }
            let context = RecordContext(
                sourceName: sourceName, path: "<explain>", fingerprint: "explain", offset: UInt64(n))
            let results = mapper.apply(value, context: context)
            if results.isEmpty {
                print(
                    "  no mapping matched: \(config.mappings.unmatched == .deadLetter ? "dead-lettered (unmatched)" : "skipped")"
                )
            }
            for result in results {
                switch result {
                case .record(let mapping, let record):
                    let body = RequestBody(key: record.batchKey, records: [record])
                    print("  mapping \"\(mapping)\" -> \(body.operation.rawValue) \(body.operation.path)")
                    print("    " + String(decoding: body.body, as: UTF8.self))
                case .failure(let mapping, let failure):
                    problems += 1
                    print(
                        "  mapping \"\(mapping)\" -> dead-letter (\(failure.kind == .limit ? "limit_exceeded" : "mapping_failed")): \(failure)"
                    )
                }
            }
        }
        if problems > 0 { throw ExitCode(ExitStatus.deadLettered.rawValue) }
    }
}
