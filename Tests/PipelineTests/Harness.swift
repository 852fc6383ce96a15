import AgentConfig
import Foundation
import JSON
import Logging
import Pipeline
import TestSupport

/// Builds configurations and environments for runs against a local stand-in.
enum Harness {
    static let environment = [
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
        "AWS_CONFIG_FILE": "/nonexistent/config",
        "HOME": "/nonexistent",
    ]

    static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func config(
        dir: TemporaryDirectory, endpoint: String, paths: [String] = ["logs/app.log*"],
        mappings: String = MixedLog.mappings,
        state: String = #"{"directory": "state"}"#, extra: String = ""
    ) throws -> AgentConfig {
        let text = """
            {
              "aws": {"region": "us-east-1", "endpoint": "\(endpoint)", "maxConcurrentRequests": 8, "rateLimits": {"PutItems": 0, "PutUsers": 0, "PutActions": 0}},
              "state": \(state),
              "sources": [{"name": "app", "paths": \(JSONValue.array(paths.map { .string($0) }).serialized), "maxLineBytes": \(MixedLog.maxLineBytes)}],
              "mappings": \(mappings)\(extra.isEmpty ? "" : ",\n" + extra)
            }
            """
        try dir.write("config.json", text)
        return try AgentConfig.load(path: dir.file("config.json"))
    }

    /// The dead-letter file's entries; `skippingTorn` leaves out lines a kill -9 cut short (the crash tests: such a
    /// letter's line was not checkpointed, so it is dead-lettered again by the next run).
    static func deadLetters(_ dir: TemporaryDirectory, skippingTorn: Bool = false) throws -> [[String: Any]] {
        guard let text = try? dir.read("state/dead-letter.jsonl") else { return [] }
        return try text.split(separator: "\n").compactMap {
            if skippingTorn { return try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            return try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }
}
