import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real `personalize-tail` binary as a child process, its stderr written to a file the test reads while it runs.
final class AgentProcess {
    let process = Process()
    let logPath: String

    /// `.build/debug/personalize-tail`; a test fails (not skips) when it was not built.
    static func binary() throws -> String {
        let path = CrashTests.binary
        try #require(
            FileManager.default.isExecutableFile(atPath: path),
            "\(path) is missing: run `swift build --build-tests` (or `swift test`, which builds it) first")
        return path
    }

    /// Starts `binary arguments…` with the harness's environment. `prefix` runs it through a wrapper
    /// (e.g. `setpriv` with options), which must exec it, so the pid is the agent's. `binary` defaults to
    /// ``binary()``.
    init(
        arguments: [String], logPath: String, prefix: [String] = [], binary: String? = nil,
        environment: [String: String] = Harness.environment
    ) throws {
        let binary = try binary ?? Self.binary()
        self.logPath = logPath
        guard FileManager.default.createFile(atPath: logPath, contents: nil) else {
            throw CocoaError(.fileWriteUnknown)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? log.close() }
        if let wrapper = prefix.first {
            process.executableURL = URL(fileURLWithPath: wrapper)
            process.arguments = Array(prefix.dropFirst()) + [binary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
        }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = log
        try process.run()
    }

    var isRunning: Bool { process.isRunning }
    var pid: Int32 { process.processIdentifier }

    func signal(_ number: Int32) {
        if process.isRunning { kill(process.processIdentifier, number) }
    }

    /// What it logged so far.
    func log() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// The log lines containing every one of `needles`.
    func logLines(containing needles: String...) -> [Substring] {
        log().split(separator: "\n").filter { line in needles.allSatisfy { line.contains($0) } }
    }

    /// Waits for the exit; returns its status, or `nil` if it is still running after `timeout`.
    func waitForExit(timeout: Duration) async throws -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return nil }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// Kills it if it still runs (cleanup after a failed expectation).
    func killIfRunning() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(30), _ condition: () throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try await Task.sleep(for: .milliseconds(20))
    }
}
