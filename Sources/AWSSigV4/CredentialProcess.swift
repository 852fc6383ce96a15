import Foundation
import Synchronization

/// Runs a profile's `credential_process` command and parses what it prints.
///
/// The command runs through `/bin/sh -c`, as the AWS CLI does, with the agent's environment. The
/// blocking wait happens on a Dispatch thread so no Swift concurrency thread is held. Error messages
/// quote the command's exit status and the start of its stderr, never its stdout (which holds keys).
enum CredentialProcess {
    static func run(command: String, profile: String) async throws -> AWSCredentials {
        let (status, stdout, stderr) = try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<(Int32, Data, Data), any Error>) in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try runBlocking(command: command, profile: profile) })
            }
        }
        guard status == 0 else {
            var reason = "the command exited with status \(status)"
            let message = String(decoding: stderr.prefix(500), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if !message.isEmpty { reason += " and said: \(message)" }
            throw AWSSigV4Error.credentialProcessFailed(profile: profile, reason: reason)
        }
        return try parse(stdout, profile: profile)
    }

    private static func runBlocking(command: String, profile: String) throws -> (Int32, Data, Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw AWSSigV4Error.credentialProcessFailed(profile: profile, reason: "could not start /bin/sh: \(error)")
        }
        // Drain stderr concurrently so a chatty command cannot block on a full pipe.
        let errorData = ErrorSink()
        let group = DispatchGroup()
        let errorHandle = errors.fileHandleForReading
        DispatchQueue.global().async(group: group) {
            errorData.store(errorHandle.readDataToEndOfFile())
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return (process.terminationStatus, outputData, errorData.value)
    }

    private final class ErrorSink: Sendable {
        private let data = Mutex(Data())
        func store(_ value: Data) { data.withLock { $0 = value } }
        var value: Data { data.withLock { $0 } }
    }

    // MARK: - Output

    private struct Output: Decodable {
        var version: Int
        var accessKeyId: String
        var secretAccessKey: String
        var sessionToken: String?
        var expiration: String?

        enum CodingKeys: String, CodingKey {
            case version = "Version"
            case accessKeyId = "AccessKeyId"
            case secretAccessKey = "SecretAccessKey"
            case sessionToken = "SessionToken"
            case expiration = "Expiration"
        }
    }

    /// Parses the Version 1 JSON document the AWS CLI specifies.
    static func parse(_ data: Data, profile: String) throws -> AWSCredentials {
        let output: Output
        do {
            output = try JSONDecoder().decode(Output.self, from: data)
        } catch DecodingError.keyNotFound(let key, _) {
            throw AWSSigV4Error.invalidCredentialProcessOutput(
                profile: profile, reason: "\(key.stringValue) is missing")
        } catch {
            throw AWSSigV4Error.invalidCredentialProcessOutput(
                profile: profile, reason: "not a JSON object of that shape")
        }
        guard output.version == 1 else {
            throw AWSSigV4Error.invalidCredentialProcessOutput(
                profile: profile, reason: "Version is \(output.version), only 1 is supported"
            )
        }
        var expiration: Date?
        if let text = output.expiration {
            guard let date = parseISO8601(text) else {
                throw AWSSigV4Error.invalidCredentialProcessOutput(
                    profile: profile, reason: "Expiration '\(text)' is not an ISO 8601 date"
                )
            }
            expiration = date
        }
        return AWSCredentials(
            accessKeyId: output.accessKeyId, secretAccessKey: output.secretAccessKey,
            sessionToken: output.sessionToken.flatMap(AWSSharedConfig.nonEmpty), expiration: expiration
        )
    }

    /// ISO 8601 with or without fractional seconds (`2024-01-15T12:35:00Z`, `...00.123Z`, `+01:00`).
    static func parseISO8601(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
