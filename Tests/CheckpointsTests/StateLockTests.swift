import Checkpoints
import Foundation
import Testing

/// Another process that holds the state lock: Python's flock on `<dir>/lock`, with its pid written in, as an agent
/// does. Killed when dropped.
final class LockHolder {
    let process = Process()
    private let ready = Pipe()

    /// Holds the lock for `seconds`, then exits (releasing it).
    init(directory: String, seconds: Double) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            """
            import fcntl, os, sys, time
            f = open(sys.argv[1], 'a+')
            fcntl.flock(f, fcntl.LOCK_EX)
            f.seek(0); f.truncate(); f.write('%d\\n' % os.getpid()); f.flush()
            print('locked', flush=True)
            time.sleep(float(sys.argv[2]))
            """,
            directory + "/lock", String(seconds),
        ]
        process.standardOutput = ready
        try process.run()
        // Wait for "locked": from here on the lock is held.
        let line = ready.fileHandleForReading.availableData
        guard String(decoding: line, as: UTF8.self).hasPrefix("locked") else {
            process.terminate()
            throw POSIXError(.ECHILD)
        }
    }

    var pid: Int32 { process.processIdentifier }

    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { kill() }
}

@Suite(.serialized) struct StateLockTests {
    @Test func acquireWritesOurPidAndReleasesOnDeinit() throws {
        let dir = try TemporaryDirectory()
        do {
            let lock = try StateLock.acquire(directory: dir.path, wait: false)
            #expect(lock.path == dir.url("lock"))
            #expect(try String(contentsOfFile: lock.path, encoding: .utf8) == "\(getpid())\n")
            #expect(permissions(lock.path) == 0o600)
            // flock conflicts between two open files even within one process: a second agent object is refused.
            #expect {
                try StateLock.acquire(directory: dir.path, wait: false)
            } throws: { error in
                (error as? CheckpointError)?.isLocked == true
                    && String(describing: error).contains("pid \(getpid())")
            }
        }
        _ = try StateLock.acquire(directory: dir.path, wait: false)  // released when the first one went away
    }

    @Test func lockHeldByAnotherProcessNamesItsPid() throws {
        let dir = try TemporaryDirectory()
        let holder = try LockHolder(directory: dir.path, seconds: 30)
        #expect {
            try StateLock.acquire(directory: dir.path, wait: false)
        } throws: { error in
            guard let error = error as? CheckpointError else { return false }
            return error.isLocked && error.description.contains("pid \(holder.pid)")
                && error.description.contains("--wait-lock") && error.path == dir.path
        }
        holder.kill()
    }

    @Test func lockIsReleasedWhenTheHolderDies() throws {
        let dir = try TemporaryDirectory()
        let holder = try LockHolder(directory: dir.path, seconds: 30)
        #expect(throws: CheckpointError.self) { try StateLock.acquire(directory: dir.path, wait: false) }
        holder.kill()  // kill -9: no chance to clean up
        let lock = try StateLock.acquire(directory: dir.path, wait: false)
        #expect(try String(contentsOfFile: lock.path, encoding: .utf8) == "\(getpid())\n")
    }

    @Test func waitLockReturnsOnceTheHolderExits() throws {
        let dir = try TemporaryDirectory()
        let holder = try LockHolder(directory: dir.path, seconds: 0.5)
        let start = ContinuousClock.now
        let lock = try StateLock.acquire(directory: dir.path, wait: true)
        let waited = ContinuousClock.now - start
        #expect(waited > .milliseconds(250))
        #expect(waited < .seconds(10))
        holder.process.waitUntilExit()
        #expect(holder.process.terminationStatus == 0)  // it exited by itself, after its sleep
        #expect(try String(contentsOfFile: lock.path, encoding: .utf8) == "\(getpid())\n")
    }

    @Test func missingDirectoryIsAnIOError() throws {
        let dir = try TemporaryDirectory()
        #expect {
            try StateLock.acquire(directory: dir.url("missing"), wait: false)
        } throws: { error in
            guard let error = error as? CheckpointError else { return false }
            return !error.isLocked && error.path == dir.url("missing/lock")
        }
    }
}
