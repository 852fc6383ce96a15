import AgentConfig
import Checkpoints
import Engine
import Foundation
import PersonalizeClient
import Pipeline
import Synchronization
import TestSupport

/// An engine following files in the background, as `run` does, stoppable from the test.
final class FollowRun: Sendable {
    final class ControlBox: Sendable {
        let value = Mutex<EngineControl?>(nil)
        func withLock<T>(_ body: (inout EngineControl?) -> T) -> T { value.withLock { body(&$0) } }
    }

    private let control = ControlBox()
    private let task: Task<(Engine.Outcome, RunStats), any Error>
    /// What the engine publishes (the files it follows, among others).
    let metrics = MetricsBox()
    private let rescans = Mutex(0)

    /// The source path ``waitForRescan(in:)`` writes to: configurations of runs that use it must match it.
    static let rescanPath = "scan/*.log"

    init(config: AgentConfig) {
        let box = control
        let metrics = metrics
        task = Task {
            let client = try Agent.makeClient(config: config, environment: Harness.environment, logger: Harness.quiet)
            try AtomicFile.makeDirectory(config.state.directory)
            let engine = try Engine(
                config: config, options: Engine.Options(once: false, maxConcurrentRequests: 8),
                sender: ClientBatchSender(client: client),
                store: DiskCheckpointStore(directory: config.state.directory),
                deadLetters: DeadLetterWriter(path: config.deadLetter.path), metrics: metrics, logger: Harness.quiet)
            box.withLock { $0 = engine.control }
            let outcome = await engine.run()
            let stats = engine.statistics
            try await client.shutdown()
            return (outcome, stats)
        }
    }

    /// Returns once the engine has rescanned its paths after this call: that scan saw every file as it was then (a
    /// deletion, a truncation, a copy beside its original), which is what a fixed sleep of "several rescan
    /// intervals" hoped for. It writes a new file matched by ``rescanPath`` (one line no mapping takes, unique so
    /// that it is no copy of another) and waits until the engine's metrics list it: only a scan finds a new file.
    /// Returns false if that did not happen within `timeout` (a deadline for a stuck engine).
    func waitForRescan(in dir: TemporaryDirectory, timeout: Duration = .seconds(60)) async throws -> Bool {
        let n = rescans.withLock {
            $0 += 1
            return $0
        }
        let name = "/scan/\(n).log"
        try dir.write(String(name.dropFirst()), #"{"n":\#(n),"kind":"rescan"}"# + "\n")
        let deadline = ContinuousClock.now + timeout
        while !metrics.snapshot.files.contains(where: { $0.path.hasSuffix(name) }) {
            if ContinuousClock.now >= deadline { return false }
            try await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    /// Stops reading, waits for the drain, and returns how the run ended.
    func stop() async throws -> (Engine.Outcome, RunStats) {
        while control.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(10)) }
        control.withLock { $0 }?.requestStop()
        return try await task.value
    }
}

extension PersonalizeStandIn {
    /// Waits until `count` records were accepted (or the timeout, a deadline for a stuck run, passes); returns
    /// whether they were.
    func waitForRecords(_ count: Int, timeout: Duration = .seconds(60)) async -> Bool {
        await waitUntil(timeout: timeout) { $0.acceptedRecords >= count }
    }
}

/// Lines of events with unique ids, for rotation tests.
struct EventLines {
    var next = 0
    var prefix: String

    init(prefix: String = "e") {
        self.prefix = prefix
    }

    /// `count` lines (each ~120 bytes, so a few dozen exceed the 1 KiB fingerprint).
    mutating func make(_ count: Int) -> String {
        var text = ""
        for _ in 0..<count {
            text +=
                #"{"ts":1763900000,"kind":"event","id":"\#(prefix)-\#(next)","user":"u-\#(next % 7)","session":"s","action":"view","item":"i-\#(next)"}"#
                + "\n"
            next += 1
        }
        return text
    }

    var ids: Set<String> { Set((0..<next).map { "\(prefix)-\($0)" }) }
}
