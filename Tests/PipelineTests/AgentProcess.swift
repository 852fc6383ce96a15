import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The real `personalize-tail` binary as a child process (a ``ChildProcess`` with the harness's environment), its
/// stderr written to a file the test reads while it runs.
final class AgentProcess {
    let child: ChildProcess
    var logPath: String { child.stderrPath }

    /// `.build/debug/personalize-tail`.
    static let path = ChildProcess.agentBinary

    /// ``path``; a test fails (not skips) when it was not built.
    static func binary() throws -> String {
        try #require(
            FileManager.default.isExecutableFile(atPath: path),
            "\(path) is missing: run `swift build --build-tests` (or `swift test`, which builds it) first")
        return path
    }

    /// Starts `binary arguments…` with the harness's environment, its stderr going to `logPath` (its own temporary
    /// file when nil). `prefix` runs it through a wrapper (e.g. ``ChildProcess/asNobody``), which must exec it, so
    /// the pid is the agent's. `binary` defaults to ``binary()``.
    init(
        arguments: [String], logPath: String? = nil, prefix: [String] = [], binary: String? = nil,
        environment: [String: String] = Harness.environment, currentDirectory: String? = nil
    ) throws {
        child = try ChildProcess(
            [try binary ?? Self.binary()] + arguments, environment: environment, currentDirectory: currentDirectory,
            wrapper: prefix, stderrPath: logPath)
    }

    /// Runs the agent to its end: status, stdout and stderr.
    static func run(
        _ arguments: [String], environment: [String: String] = Harness.environment, currentDirectory: String? = nil,
        timeout: Duration = .seconds(300)
    ) async throws -> ChildProcess.Output {
        try await ChildProcess.run(
            [try binary()] + arguments, environment: environment, currentDirectory: currentDirectory, timeout: timeout)
    }

    var isRunning: Bool { child.isRunning }
    var pid: Int32 { child.pid }

    func signal(_ number: Int32) { child.signal(number) }

    /// What it logged so far.
    func log() -> String { child.stderr }

    /// The log lines containing every one of `needles`.
    func logLines(containing needles: String...) -> [Substring] {
        log().split(separator: "\n").filter { line in needles.allSatisfy { line.contains($0) } }
    }

    /// Waits for the exit; returns its status, or `nil` if it is still running after `timeout`.
    func waitForExit(timeout: Duration) async throws -> Int32? {
        try await child.wait(timeout: timeout)
    }

    /// Kills it if it still runs (cleanup after a failed expectation).
    func killIfRunning() { child.kill() }
}

/// Polls `condition` every 20 ms until it holds or `timeout` (a deadline for a stuck child) passes; returns whether
/// it held.
func eventually(timeout: Duration = .seconds(60), _ condition: () throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try await Task.sleep(for: .milliseconds(20))
    }
}
