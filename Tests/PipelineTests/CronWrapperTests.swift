import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `examples/deploy/cron-wrapper.sh` run with a stub agent that exits with a chosen status: the exit statuses are
/// logged or alerted, an unwritable log still gets its alerts out, and runs that keep finding the lock held alert.
@Suite struct CronWrapperTests {
    static let wrapper: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        return root + "/examples/deploy/cron-wrapper.sh"
    }()

    /// Runs the wrapper once with the stub answering `status`; returns the wrapper's status and stderr.
    static func run(_ dir: TemporaryDirectory, status: Int, log: String) throws -> (Int32, String) {
        let out = try ChildProcess.runBlocking(
            ["/bin/sh", wrapper],
            environment: [
                "PATH": "/usr/bin:/bin", "PERSONALIZE_TAIL": dir.file("stub"),
                "PERSONALIZE_CONFIG": dir.file("config.json"),
                "PERSONALIZE_LOG": log, "PERSONALIZE_ALERT": dir.file("alert"), "STUB_STATUS": String(status),
                "PERSONALIZE_WRAPPER_STATE": dir.file("locked-runs"), "PERSONALIZE_LOCKED_ALERT_AFTER": "3",
            ])
        return (out.status, out.stderr)
    }

    static func setUp(_ dir: TemporaryDirectory) throws {
        try dir.write("stub", "#!/bin/sh\necho \"stub agent: $*\" >&2\nexit \"$STUB_STATUS\"\n")
        try dir.write("alert", "#!/bin/sh\nprintf '%s\\n' \"$*\" >>\"$(dirname \"$0\")/alerts.txt\"\n")
        chmod(dir.file("stub"), 0o755)
        chmod(dir.file("alert"), 0o755)
    }

    static func alerts(_ dir: TemporaryDirectory) -> [String] {
        ((try? dir.read("alerts.txt")) ?? "").split(separator: "\n").map(String.init)
    }

    @Test func statusesAreLoggedAndAlerted() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.setUp(dir)
        let log = dir.file("logs/cron.log")
        #expect(try Self.run(dir, status: 0, log: log).0 == 0)
        #expect(try Self.run(dir, status: 3, log: log).0 == 0)
        #expect(Self.alerts(dir).isEmpty)
        #expect(try Self.run(dir, status: 2, log: log).0 == 2)
        let text = try dir.read("logs/cron.log")
        #expect(text.contains("stub agent: run --once --config \(dir.file("config.json"))"), "\(text)")
        #expect(text.contains("done: everything read was delivered"))
        #expect(text.contains("dead-lettered (exit 3)"))
        #expect(Self.alerts(dir).count == 1)
        #expect(Self.alerts(dir).first?.contains("configuration or credential error (exit 2)") == true)
    }

    @Test func anUnwritableLogStillAlertsAndLogsToStderr() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.setUp(dir)
        // A directory that cannot be made (its parent is a file): unwritable even for root.
        try dir.write("notadir", "")
        let (status, stderr) = try Self.run(dir, status: 2, log: dir.file("notadir/cron.log"))
        #expect(status == 2)
        let alerts = Self.alerts(dir)
        #expect(alerts.contains { $0.contains("cannot write the log \(dir.file("notadir/cron.log"))") }, "\(alerts)")
        #expect(alerts.contains { $0.contains("exit 2") && $0.contains("/dev/stderr") }, "\(alerts)")
        #expect(stderr.contains("stub agent: run --once"), "\(stderr)")
        #expect(stderr.contains("cron-wrapper: ALERT"), "\(stderr)")
    }

    @Test func runsThatKeepFindingTheLockHeldAlert() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.setUp(dir)
        let log = dir.file("cron.log")
        for _ in 0..<2 { #expect(try Self.run(dir, status: 5, log: log).0 == 0) }
        #expect(Self.alerts(dir).isEmpty)
        #expect(try Self.run(dir, status: 5, log: log).0 == 0)
        #expect(Self.alerts(dir).count == 1)
        #expect(Self.alerts(dir).first?.contains("3 runs in a row found the state directory locked") == true)
        // A run that gets the lock resets the count.
        #expect(try Self.run(dir, status: 0, log: log).0 == 0)
        #expect(try Self.run(dir, status: 5, log: log).0 == 0)
        #expect(Self.alerts(dir).count == 1)
    }
}
