import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A program run by a test: the one way the suite spawns processes (the agent binary, `python3`, `openssl`,
/// `gzip`, `setpriv`, shell scripts).
///
/// Standard output and standard error go to files, never to pipes, so a child that writes a lot cannot block on a
/// full pipe while the test waits for it, and a test can read what a running child wrote so far (its log).
/// Standard input is `/dev/null`, bytes (from a file, for the same reason), or a pipe the test closes to tell a
/// child that waits for end-of-file to go on. Waits poll with a deadline (Foundation's `waitUntilExit` spins a
/// core on Linux); a child still running when its `ChildProcess` goes away is killed.
public final class ChildProcess: @unchecked Sendable {
    /// What the child reads on standard input.
    public enum Input: Sendable {
        /// `/dev/null`.
        case none
        /// These bytes, then end-of-file.
        case bytes([UInt8])
        /// A pipe kept open until ``closeInput()``: for a child that holds something until told to let go.
        case pipe
    }

    /// How a child that ran to its end ended.
    public struct Output: Sendable {
        /// The exit status (or, for a child ended by a signal, the signal's number).
        public var status: Int32
        /// Standard output as it was written (it may be binary).
        public var stdoutBytes: [UInt8]
        public var stderr: String
        /// Standard output as UTF-8 text.
        public var stdout: String { String(decoding: stdoutBytes, as: UTF8.self) }
    }

    /// A child that did not finish before its deadline (it was killed), with what it wrote to standard error.
    public struct TimedOut: Error, CustomStringConvertible {
        public var description: String
    }

    private let process = Process()
    private let inputPipe: Pipe?
    /// The directory for the capture files this instance made itself (removed when it goes away).
    private let scratch: String
    /// Where standard output and standard error go.
    public let stdoutPath: String
    public let stderrPath: String

    /// Starts `command` (`command[0]` is the executable's path, run through `wrapper` when one is given: the wrapper
    /// must exec it, as `setpriv` does, so ``pid`` is the command's). `environment` replaces the test process's
    /// environment when given. Output is captured to files of a private temporary directory unless `stdoutPath` or
    /// `stderrPath` name files to write instead (a log kept beside the test's other files).
    public init(
        _ command: [String], environment: [String: String]? = nil, currentDirectory: String? = nil,
        input: Input = .none, wrapper: [String] = [], stdoutPath: String? = nil, stderrPath: String? = nil
    ) throws {
        precondition(!command.isEmpty, "ChildProcess needs a command")
        scratch = try TemporaryDirectory(prefix: "child").path
        self.stdoutPath = stdoutPath ?? scratch + "/stdout"
        self.stderrPath = stderrPath ?? scratch + "/stderr"
        let full = wrapper + command
        process.executableURL = URL(fileURLWithPath: full[0])
        process.arguments = Array(full.dropFirst())
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }

        let out = try Self.create(self.stdoutPath)
        let err = try Self.create(self.stderrPath)
        defer {
            try? out.close()
            try? err.close()
        }
        process.standardOutput = out
        process.standardError = err
        var inputFile: FileHandle?
        switch input {
        case .none:
            inputPipe = nil
            process.standardInput = FileHandle.nullDevice
        case .bytes(let bytes):
            inputPipe = nil
            let path = scratch + "/stdin"
            guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
            }
            inputFile = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            process.standardInput = inputFile
        case .pipe:
            let pipe = Pipe()
            inputPipe = pipe
            process.standardInput = pipe
        }
        defer { try? inputFile?.close() }
        do {
            try process.run()
        } catch {
            try? FileManager.default.removeItem(atPath: scratch)
            throw error
        }
        // The child has its own copy of the pipe's read end.
        try? inputPipe?.fileHandleForReading.close()
    }

    deinit {
        kill()
        try? inputPipe?.fileHandleForWriting.close()
        try? FileManager.default.removeItem(atPath: scratch)
    }

    private static func create(_ path: String) throws -> FileHandle {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        return try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    // MARK: Running to the end

    /// Runs `command` to its end and returns its status and output; kills it and throws ``TimedOut`` if it is still
    /// running after `timeout` (a deadline for a hung child, not a performance bound).
    public static func run(
        _ command: [String], environment: [String: String]? = nil, currentDirectory: String? = nil,
        input: Input = .none, wrapper: [String] = [], timeout: Duration = .seconds(300)
    ) async throws -> Output {
        let child = try ChildProcess(
            command, environment: environment, currentDirectory: currentDirectory, input: input, wrapper: wrapper)
        guard let status = try await child.wait(timeout: timeout) else {
            child.kill()
            throw TimedOut(
                description: "\(command.joined(separator: " ")) still ran after \(timeout):\n\(child.stderr)")
        }
        return Output(status: status, stdoutBytes: child.stdoutBytes, stderr: child.stderr)
    }

    /// ``run(_:environment:currentDirectory:input:wrapper:timeout:)`` for synchronous callers: blocks the calling
    /// thread while it polls.
    public static func runBlocking(
        _ command: [String], environment: [String: String]? = nil, currentDirectory: String? = nil,
        input: Input = .none, wrapper: [String] = [], timeout: Duration = .seconds(300)
    ) throws -> Output {
        let child = try ChildProcess(
            command, environment: environment, currentDirectory: currentDirectory, input: input, wrapper: wrapper)
        guard let status = child.waitBlocking(timeout: timeout) else {
            child.kill()
            throw TimedOut(
                description: "\(command.joined(separator: " ")) still ran after \(timeout):\n\(child.stderr)")
        }
        return Output(status: status, stdoutBytes: child.stdoutBytes, stderr: child.stderr)
    }

    // MARK: A running child

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// The exit status once it has ended (`nil` while it runs).
    public var status: Int32? { process.isRunning ? nil : process.terminationStatus }

    /// What it wrote to standard output so far.
    public var stdout: String { String(decoding: stdoutBytes, as: UTF8.self) }

    /// What it wrote to standard output so far, as bytes.
    public var stdoutBytes: [UInt8] { FileManager.default.contents(atPath: stdoutPath).map(Array.init) ?? [] }

    /// What it wrote to standard error so far.
    public var stderr: String {
        String(decoding: FileManager.default.contents(atPath: stderrPath) ?? Data(), as: UTF8.self)
    }

    /// Sends `signal` if it still runs.
    public func signal(_ number: Int32) {
        if process.isRunning { Glibc.kill(process.processIdentifier, number) }
    }

    /// Closes the pipe on its standard input (``Input/pipe``): it reads end-of-file.
    public func closeInput() {
        try? inputPipe?.fileHandleForWriting.close()
    }

    /// Waits for the exit; returns its status, or `nil` if it still runs after `timeout`.
    public func wait(timeout: Duration) async throws -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return nil }
            try await Task.sleep(for: .milliseconds(10))
        }
        return process.terminationStatus
    }

    /// ``wait(timeout:)`` for synchronous callers.
    public func waitBlocking(timeout: Duration) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return nil }
            usleep(5_000)
        }
        return process.terminationStatus
    }

    /// Kills it with SIGKILL if it still runs, and waits until it is gone.
    public func kill() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        _ = waitBlocking(timeout: .seconds(60))
    }

    // MARK: The agent

    /// The agent's binary as `swift test` builds it, `.build/debug/personalize-tail` of this checkout: what the tests
    /// that run the real command line start.
    public static let agentBinary: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        return root + "/.build/debug/personalize-tail"
    }()

    // MARK: Running as another user

    /// `setpriv` (util-linux), when installed.
    public static let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// The user and group `nobody` runs as.
    public static let nobody: UInt32 = 65534

    /// A ``init(_:environment:currentDirectory:input:wrapper:stdoutPath:stderrPath:)`` wrapper that runs the
    /// command as `nobody` with no supplementary groups and every capability dropped (effective, permitted,
    /// inheritable, ambient and the bounding set, with `no_new_privs`), as the systemd unit and the DaemonSet run the
    /// agent. Needs root and ``setpriv``.
    public static var asNobody: [String] {
        [
            setpriv ?? "setpriv", "--reuid=\(nobody)", "--regid=\(nobody)", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
        ]
    }

    /// A wrapper that keeps the user but drops `capabilities` (e.g. `["dac_override"]`) from the bounding and
    /// inheritable sets, so root loses them too. Needs ``setpriv``.
    public static func without(capabilities: [String]) -> [String] {
        let list = capabilities.map { "-" + $0 }.joined(separator: ",")
        return [setpriv ?? "setpriv", "--bounding-set", list, "--inh-caps", list, "--"]
    }
}
