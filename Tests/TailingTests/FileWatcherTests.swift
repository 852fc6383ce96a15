#if os(Linux)
    import Foundation
    import Synchronization
    import Testing
    import Tailing

    /// Counts callbacks and remembers when the first one after `arm()` came.
    final class WakeRecorder: Sendable {
        private let state = Mutex<(count: Int, armedAt: ContinuousClock.Instant?, firstAfterArm: Duration?)>(
            (0, nil, nil))

        var count: Int { state.withLock { $0.count } }

        func arm() { state.withLock { $0 = ($0.count, .now, nil) } }

        func wake() {
            state.withLock {
                $0.count += 1
                if let armed = $0.armedAt, $0.firstAfterArm == nil { $0.firstAfterArm = .now - armed }
            }
        }

        /// Waits (up to `limit`, a deadline for a watcher that never calls back) for a callback after `arm()`;
        /// returns how long it took, or nil.
        func latency(limit: Duration = .seconds(60)) -> Duration? {
            let deadline = ContinuousClock.now + limit
            while ContinuousClock.now < deadline {
                if let latency = state.withLock({ $0.firstAfterArm }) { return latency }
                usleep(1_000)
            }
            return nil
        }
    }

    /// Waits for something that must NOT happen (a callback): such a test has to give it time. Load can only make
    /// it miss a wrong callback, never fail a right watcher.
    func quietPeriod() {
        usleep(100_000)
    }

    /// The watcher has no timer: every callback comes from an inotify event. Each test makes the watcher after the
    /// files it starts with, so no event from before the watch is queued. How soon a wake comes is measured by the
    /// benchmarks, not here.
    @Suite struct FileWatcherTests {
        @Test func appendingToAFileWakes() throws {
            let dir = try TemporaryDirectory()
            let path = try dir.write("app.log", "a\n")
            let recorder = WakeRecorder()
            let watcher = try #require(FileWatcher(directories: [dir.path]) { recorder.wake() })
            defer { watcher.stop() }
            #expect(recorder.count == 0)
            recorder.arm()
            try append(path, "b\n")
            #expect(recorder.latency() != nil)
        }

        @Test func creatingAFileWakes() throws {
            let dir = try TemporaryDirectory()
            let recorder = WakeRecorder()
            let watcher = try #require(FileWatcher(directories: [dir.path]) { recorder.wake() })
            defer { watcher.stop() }
            recorder.arm()
            #expect(creat(dir.url("new.log"), 0o644) >= 0)
            #expect(recorder.latency() != nil)
        }

        @Test func renameAndDeleteWake() throws {
            let dir = try TemporaryDirectory()
            let path = try dir.write("app.log", "a\n")
            do {
                let recorder = WakeRecorder()
                let watcher = try #require(FileWatcher(directories: [dir.path]) { recorder.wake() })
                defer { watcher.stop() }
                recorder.arm()
                #expect(rename(path, path + ".1") == 0)
                #expect(recorder.latency() != nil, "rename")
            }
            // A watcher of its own, made after the rename: only the delete can wake it.
            let recorder = WakeRecorder()
            let watcher = try #require(FileWatcher(directories: [dir.path]) { recorder.wake() })
            defer { watcher.stop() }
            recorder.arm()
            #expect(unlink(path + ".1") == 0)
            #expect(recorder.latency() != nil, "delete")
        }

        /// The watcher names the files written, so the tailer looks only at those; anything else is structural
        /// (the tailer rescans). What changed before a callback is there when the callback comes.
        @Test func changesNameTheFilesWritten() throws {
            let dir = try TemporaryDirectory()
            let path = try dir.write("app.log", "a\n")
            let other = try dir.write("other.log", "a\n")
            let recorder = WakeRecorder()
            let watcher = try #require(FileWatcher(directories: [dir.path]) { recorder.wake() })
            defer { watcher.stop() }
            recorder.arm()
            try append(path, "b\n")
            #expect(recorder.latency() != nil)
            let written = watcher.takeChanges()
            #expect(written.written == [path])
            #expect(!written.structural && !written.all)
            #expect(!watcher.takeChanges().written.contains(other))
            #expect(rename(other, other + ".1") == 0)
            // The close of the append may still be on its way: gather until the rename is seen.
            var moved = FileWatcher.Changes()
            let deadline = ContinuousClock.now + .seconds(60)
            while !moved.structural, ContinuousClock.now < deadline {
                let changes = watcher.takeChanges()
                moved.structural = changes.structural
                moved.written.formUnion(changes.written)
                usleep(1_000)
            }
            #expect(moved.structural)
            #expect(moved.written.isSubset(of: [path]))
        }

        @Test func burstsAreCoalesced() throws {
            let dir = try TemporaryDirectory()
            let path = try dir.write("app.log", "")
            let recorder = WakeRecorder()
            let watcher = try #require(
                FileWatcher(directories: [dir.path], minimumInterval: .milliseconds(50)) { recorder.wake() })
            defer { watcher.stop() }
            let fd = open(path, O_WRONLY | O_APPEND)
            defer { close(fd) }
            let start = ContinuousClock.now
            for _ in 0..<2_000 { _ = write(fd, "x\n", 2) }  // 2,000 IN_MODIFY events
            let deadline = ContinuousClock.now + .seconds(60)
            while recorder.count == 0, ContinuousClock.now < deadline { usleep(1_000) }
            quietPeriod()
            // The count first, then the time: a slow machine only lengthens the window, and so the bound. At most
            // one callback per 50 ms, plus a few pauses a signal may cut short (EINTR: other tests' children exit).
            let count = recorder.count
            let window = ContinuousClock.now - start
            #expect(count >= 1)
            #expect(count <= Int(window / .milliseconds(50)) + 5, "\(count) callbacks in \(window)")
        }

        @Test func unrelatedDirectoriesDoNotWake() throws {
            let watched = try TemporaryDirectory()
            let other = try TemporaryDirectory()
            let recorder = WakeRecorder()
            let watcher = try #require(FileWatcher(directories: [watched.path]) { recorder.wake() })
            defer { watcher.stop() }
            try other.write("x.log", "x\n")
            quietPeriod()
            #expect(recorder.count == 0)
        }

        @Test func updateAddsDirectoriesFoundLater() throws {
            let dir = try TemporaryDirectory()
            let recorder = WakeRecorder()
            let sub = dir.url("later")
            let watcher = try #require(FileWatcher(directories: [dir.path, sub]) { recorder.wake() })
            defer { watcher.stop() }
            #expect(watcher.watchedDirectories == [dir.path])  // `later` does not exist yet
            recorder.arm()
            try dir.makeDirectory("later")
            #expect(recorder.latency() != nil)  // IN_CREATE for the directory itself
            #expect(watcher.update(directories: [dir.path, sub]).isEmpty)
            #expect(watcher.watchedDirectories == [dir.path, sub])
            // Directory events may still come; wait for the callbacks to stop before arming for the file.
            var seen = -1
            while seen != recorder.count {
                seen = recorder.count
                quietPeriod()
            }
            recorder.arm()
            try dir.write("later/app.log", "a\n")
            #expect(recorder.latency() != nil)
            #expect(watcher.update(directories: [dir.url("missing")]) == [dir.url("missing")])
        }

        @Test func deletedDirectoryDropsOutAndCanBeWatchedAgain() throws {
            let dir = try TemporaryDirectory()
            try dir.makeDirectory("sub")
            let sub = dir.url("sub")
            let recorder = WakeRecorder()
            let watcher = try #require(FileWatcher(directories: [dir.path, sub]) { recorder.wake() })
            defer { watcher.stop() }
            #expect(rmdir(sub) == 0)
            let deadline = ContinuousClock.now + .seconds(60)
            while watcher.watchedDirectories.contains(sub), ContinuousClock.now < deadline { usleep(1_000) }
            #expect(watcher.watchedDirectories == [dir.path])
            try dir.makeDirectory("sub")
            #expect(watcher.update(directories: [sub]).isEmpty)
            #expect(watcher.watchedDirectories == [dir.path, sub])
        }

        @Test func stopEndsTheThreadAndNoCallbackFollows() throws {
            let dir = try TemporaryDirectory()
            let path = try dir.write("app.log", "")
            let recorder = WakeRecorder()
            let watcher = try #require(FileWatcher(directories: [dir.path]) { recorder.wake() })
            recorder.arm()
            try append(path, "a\n")
            #expect(recorder.latency() != nil)
            watcher.stop()  // joins the thread: returning at all shows it ended
            let count = recorder.count
            try append(path, "b\n")
            quietPeriod()
            #expect(recorder.count == count)
            watcher.stop()  // again: nothing
            #expect(watcher.update(directories: [dir.path]) == [dir.path])  // a stopped watcher watches nothing new
        }

        @Test func stopFromInsideTheCallbackDoesNotDeadlock() throws {
            let dir = try TemporaryDirectory()
            let recorder = WakeRecorder()
            let box = Mutex<FileWatcher?>(nil)
            let watcher = try #require(
                FileWatcher(directories: [dir.path]) {
                    recorder.wake()
                    box.withLock { $0?.stop() }
                })
            box.withLock { $0 = watcher }
            recorder.arm()
            try dir.write("a.log", "a\n")
            #expect(recorder.latency() != nil)
            quietPeriod()
            let count = recorder.count
            #expect(count == 1)
            try dir.write("b.log", "b\n")
            quietPeriod()
            #expect(recorder.count == count)
            box.withLock { $0 = nil }
        }

        @Test func droppingTheWatcherStopsIt() throws {
            let dir = try TemporaryDirectory()
            let recorder = WakeRecorder()
            do {
                let watcher = FileWatcher(directories: [dir.path]) { recorder.wake() }
                #expect(watcher != nil)
            }
            try dir.write("a.log", "a\n")
            quietPeriod()
            #expect(recorder.count == 0)
        }
    }
#endif
