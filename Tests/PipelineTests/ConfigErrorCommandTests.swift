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

    @Test(arguments: commands) func anUnreadableConfigIsOneErrorAndStatus2(_ command: [String]) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("missing.json")
        let text = try CommandLineTests.run(command + ["--config", path], in: dir)
        #expect(text.status == 2, "\(command): \(text.stderr)")
        #expect(
            text.stderr == "personalize-tail: configuration error:\n  cannot read \(path); check the --config path\n",
            "\(command): \(text.stderr)")
        #expect(text.stdout.isEmpty, "\(command): \(text.stdout)")

        let json = try CommandLineTests.run(command + ["--config", path, "--log-format", "json"], in: dir)
        #expect(json.status == 2, "\(command): \(json.stderr)")
        let lines = json.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(command): \(json.stderr)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(json.stderr.utf8)) as? [String: Any], "\(json.stderr)")
        #expect(object["level"] as? String == "error", "\(command): \(json.stderr)")
        #expect((object["message"] as? String)?.contains("cannot read \(path)") == true, "\(command): \(json.stderr)")
    }
}
