import Foundation
import TestSupport
import Testing

/// Every command loads the configuration the same way: an unreadable file is one error on stderr (text, or a JSON
/// object with `--log-format json`) and exit status 2, before the command does anything else.
@Suite struct ConfigErrorCommandTests {
    /// Each command with the arguments it needs to get as far as loading the configuration.
    static let commands: [[String]] = [
        ["run", "--once"], ["run", "--dry-run"], ["validate"], ["explain", "{}"], ["export", "--output", "out"],
        ["inspect"], ["status"], ["checkpoint", "--from-export", "out"], ["import", "--from", "out"],
    ]

    @Test(arguments: commands) func anUnreadableConfigIsOneErrorAndStatus2(_ command: [String]) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("missing.json")
        let text = try await CommandLineTests.run(command + ["--config", path], in: dir)
        #expect(text.status == 2, "\(command): \(text.stderr)")
        #expect(
            text.stderr == "personalize-tail: configuration error:\n  cannot read \(path); check the --config path\n",
            "\(command): \(text.stderr)")
        #expect(text.stdout.isEmpty, "\(command): \(text.stdout)")

        let json = try await CommandLineTests.run(command + ["--config", path, "--log-format", "json"], in: dir)
        #expect(json.status == 2, "\(command): \(json.stderr)")
        let lines = json.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(command): \(json.stderr)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(json.stderr.utf8)) as? [String: Any], "\(json.stderr)")
        #expect(object["level"] as? String == "error", "\(command): \(json.stderr)")
        #expect((object["message"] as? String)?.contains("cannot read \(path)") == true, "\(command): \(json.stderr)")
    }
}

/// The commands without a logger (export, inspect, status, checkpoint, import) write their stderr in the log format
/// too: with `--log-format json` every line is one JSON object, as every line of `run` is.
@Suite struct CommandStderrFormatTests {
    static func config(_ dir: TemporaryDirectory) throws -> String {
        var lines = EventLines(prefix: "x")
        try dir.write("logs/app.log", lines.make(5) + "{not json\n")
        return try dir.write(
            "config.json",
            """
            {
              "aws": {"region": "us-east-1"},
              "state": {"directory": "state"},
              "sources": [{"name": "app", "paths": ["logs/app.log"]}],
              "mappings": \(MixedLog.mappings)
            }
            """)
    }

    @Test(arguments: [
        (["export", "--output", "out"], "export files=1"), (["inspect"], ""), (["status"], ""),
        (["checkpoint", "--from-export", "absent"], "absent"),
    ])
    func everyStderrLineIsAJSONObject(_ command: [String], _ expected: String) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = try Self.config(dir)
        let json = try await CommandLineTests.run(command + ["--config", config, "--log-format", "json"], in: dir)
        for line in json.stderr.split(separator: "\n") {
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(command): \(line)")
            #expect(["info", "warning", "error"].contains(object["level"] as? String ?? ""), "\(command): \(line)")
            #expect(object["time"] is String, "\(command): \(line)")
        }
        #expect(expected.isEmpty || json.stderr.contains(expected), "\(command): \(json.stderr) \(json.stdout)")
        // Text, in a directory of its own (an export refuses an output directory that is there already).
        let other = try TemporaryDirectory()
        defer { other.remove() }
        let text = try await CommandLineTests.run(command + ["--config", try Self.config(other)], in: other)
        for line in text.stderr.split(separator: "\n") {
            #expect(line.hasPrefix("personalize-tail: ") || line.hasPrefix("  "), "\(command): \(line)")
        }
        #expect(json.status == text.status, "\(command): \(json.stderr) / \(text.stderr)")
    }
}
