import Foundation
import TestSupport
import Testing

/// The README's promise, end to end with the real binary: secret keys, session tokens and signatures never appear
/// in what the agent writes, even when the service quotes them back (a signature mismatch quotes the canonical
/// request, `x-amz-security-token` line included; a rejection may quote anything).
@Suite struct CredentialLeakTests {
    /// Random base64 of `count` characters: a fresh secret and token per run, so no fixture can hide a leak.
    static func randomBase64(_ count: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        return String((0..<count).map { _ in alphabet.randomElement()! })
    }

    @Test func quotedCredentialsNeverReachAnyOutput() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let keyId = "ASIALEAKTEST"
        let secret = Self.randomBase64(40)
        let token = "IQoJb3JpZ2luX2VjE" + Self.randomBase64(380)
        let fakeSignature = String((0..<64).map { _ in "0123456789abcdef".randomElement()! })
        let standIn = try await PersonalizeStandIn.start(
            .init(credentials: [keyId: secret], requiredSessionTokens: [keyId: token]))
        var environment = Harness.environment
        environment["AWS_ACCESS_KEY_ID"] = keyId
        environment["AWS_SECRET_ACCESS_KEY"] = secret
        environment["AWS_SESSION_TOKEN"] = token

        var lines = EventLines(prefix: "leak")
        try dir.write("logs/app.log", lines.make(1))
        _ = try Harness.config(
            dir: dir, endpoint: standIn.endpoint,
            extra: #""metrics": {"textfile": "\#(dir.file("metrics.prom"))"}"#)
        let arguments = ["run", "--once", "--config", dir.file("config.json"), "--log-level", "debug"]

        // Run 1: the service rejects the record with a message quoting the token, the secret and a signature: the
        // record is dead-lettered, its reason written to the dead-letter file and the report.
        standIn.setFaults(
            Faults(script: [
                .error(
                    status: 400, code: "InvalidInputException",
                    message: "Invalid record: the request was\nx-amz-security-token:\(token)\n"
                        + "Authorization: AWS4-HMAC-SHA256 Credential=\(keyId)/20261206/us-east-1/personalize/"
                        + "aws4_request, SignedHeaders=host;x-amz-date, Signature=\(fakeSignature)\nkey \(secret)")
            ]))
        let first = try AgentProcess(
            arguments: arguments + ["--report", dir.file("report-1.json")], logPath: dir.file("agent-1.log"),
            environment: environment)
        defer { first.killIfRunning() }
        #expect(try await first.waitForExit(timeout: .seconds(60)) != nil, "\(first.log())")
        #expect(try Harness.deadLetters(dir).count == 1, "\(first.log())")

        // Run 2: a signature mismatch, answered as AWS does (canonical request with the token, string to sign,
        // signature provided): the agent stops on it, logs it and reports it.
        try dir.append("logs/app.log", lines.make(1))
        standIn.setFaults(Faults(signatureMismatchNext: 1))
        let second = try AgentProcess(
            arguments: arguments + ["--report", dir.file("report-2.json")], logPath: dir.file("agent-2.log"),
            environment: environment)
        defer { second.killIfRunning() }
        #expect(try await second.waitForExit(timeout: .seconds(60)) != nil, "\(second.log())")
        #expect(standIn.stats.signatureFailures >= 1)

        var outputs: [(String, String)] = [
            ("agent-1.log", first.log()), ("agent-2.log", second.log()),
            ("report-1.json", try dir.read("report-1.json")), ("report-2.json", try dir.read("report-2.json")),
            ("dead-letter.jsonl", try dir.read("state/dead-letter.jsonl")),
            ("metrics.prom", try dir.read("metrics.prom")),
        ]
        for extra in [[], ["--json"]] {
            outputs.append(("status \(extra)", try await Self.status(dir: dir, extra: extra, environment: environment)))
        }
        // The paths were exercised: the mismatch is reported by its code, the rejection's reason was kept, redacted.
        #expect(outputs[1].1.contains("InvalidSignatureException"), "\(outputs[1].1)")
        #expect(outputs[3].1.contains("InvalidSignatureException"), "\(outputs[3].1)")
        #expect(outputs[4].1.contains("[redacted]"), "\(outputs[4].1)")
        let hex64 = try Regex("[0-9a-fA-F]{64}")
        for (name, text) in outputs {
            #expect(!text.isEmpty, "\(name) is empty")
            #expect(!text.contains(secret), "\(name) holds the secret key:\n\(text)")
            #expect(!text.contains(token), "\(name) holds the session token:\n\(text)")
            #expect(!text.contains(String(token.prefix(40))), "\(name) holds part of the session token:\n\(text)")
            #expect(!text.contains(fakeSignature), "\(name) holds a signature:\n\(text)")
            #expect(text.firstMatch(of: hex64) == nil, "\(name) holds a signature-shaped value:\n\(text)")
            #expect(!text.lowercased().contains("x-amz-security-token:i"), "\(name) holds a token line:\n\(text)")
        }
        try await standIn.shutdown()
    }

    /// `personalize-tail status` (table or JSON) as the user sees it.
    static func status(dir: TemporaryDirectory, extra: [String], environment: [String: String]) async throws -> String {
        let out = try await AgentProcess.run(
            ["status", "--config", dir.file("config.json")] + extra, environment: environment)
        return out.stdout + out.stderr
    }
}
