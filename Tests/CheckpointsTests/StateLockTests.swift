import Checkpoints
import Foundation
import Synchronization
import TestSupport
import Testing

@Suite struct StateLockTests {
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
        let holder = try LockHolder(directory: dir.path)
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
        let holder = try LockHolder(directory: dir.path)
        #expect(throws: CheckpointError.self) { try StateLock.acquire(directory: dir.path, wait: false) }
        holder.kill()  // kill -9: no chance to clean up
        let lock = try StateLock.acquire(directory: dir.path, wait: false)
        #expect(try String(contentsOfFile: lock.path, encoding: .utf8) == "\(getpid())\n")
    }

    /// What the waiting thread saw when `acquire(wait: true)` returned.
    final class Waiter: Sendable {
        let state = Mutex<(done: Bool, afterRelease: Bool, error: String?)>((false, false, nil))
        let released = Mutex(false)
    }

    @Test func waitLockReturnsOnceTheHolderExits() async throws {
        let dir = try TemporaryDirectory()
        let holder = try LockHolder(directory: dir.path)
        let waiter = Waiter()
        let path = dir.path
        // acquire(wait: true) blocks its thread in flock(2): a thread of its own, not one of the test pool's.
        Thread.detachNewThread {
            do {
                let lock = try StateLock.acquire(directory: path, wait: true)
                let afterRelease = waiter.released.withLock { $0 }
                let pid = (try? String(contentsOfFile: lock.path, encoding: .utf8)) ?? ""
                waiter.state.withLock { $0 = (true, afterRelease, pid == "\(getpid())\n" ? nil : "lock file: \(pid)") }
            } catch {
                waiter.state.withLock { $0 = (true, false, "\(error)") }
            }
        }
        waiter.released.withLock { $0 = true }
        #expect(holder.release() == 0)  // it exited by itself, when told
        let deadline = ContinuousClock.now + .seconds(60)
        while !waiter.state.withLock({ $0.done }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let seen = waiter.state.withLock { $0 }
        #expect(seen.done, "acquire(wait: true) did not return after the holder exited")
        #expect(seen.error == nil, "\(seen.error ?? "")")
        #expect(seen.afterRelease, "acquire(wait: true) returned while the other process still held the lock")
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
