import Foundation

/// Another process that holds a state directory's lock as an agent does: Python's `flock` on `<directory>/lock`,
/// with its pid written in. It holds the lock until ``release()`` (it then exits by itself) or ``kill()``
/// (`kill -9`, no chance to clean up), or until it goes away.
public final class LockHolder: Sendable {
    private let child: ChildProcess

    /// Starts the holder and returns once it holds the lock (it says so on stdout); throws if it exits first or
    /// has not said so within `timeout`.
    public init(directory: String, timeout: Duration = .seconds(60)) throws {
        child = try ChildProcess(
            [
                "/usr/bin/env", "python3", "-c",
                """
                import fcntl, os, sys
                f = open(sys.argv[1], 'a+')
                fcntl.flock(f, fcntl.LOCK_EX)
                f.seek(0); f.truncate(); f.write('%d\\n' % os.getpid()); f.flush()
                print('locked', flush=True)
                sys.stdin.read()
                """,
                directory + "/lock",
            ], input: .pipe)
        let deadline = ContinuousClock.now + timeout
        while !child.stdout.hasPrefix("locked") {
            guard child.isRunning, ContinuousClock.now < deadline else {
                child.kill()
                throw ChildProcess.TimedOut(
                    description: "the lock holder did not take \(directory)/lock: \(child.stderr)")
            }
            usleep(5_000)
        }
    }

    public var pid: Int32 { child.pid }
    public var isRunning: Bool { child.isRunning }

    /// Lets go: the holder exits by itself, closing (and so unlocking) the file. Returns its exit status.
    @discardableResult
    public func release() -> Int32? {
        child.closeInput()
        return child.waitBlocking(timeout: .seconds(60))
    }

    /// `kill -9`: the kernel drops the lock with the process.
    public func kill() { child.kill() }
}
