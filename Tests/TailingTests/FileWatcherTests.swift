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

        /// Waits (up to `limit`) for a callback after `arm()`; returns how long it took, or nil.
        func latency(limit: Duration = .seconds(2)) -> Duration? {
            let deadline = ContinuousClock.now + limit
            while ContinuousClock.now < deadline {
                if let latency = state.withLock({ $0.firstAfterArm }) { return latency }
                usleep(1_000)
            }
            return nil
        }
    }

    @Suite(.serialized) struct FileWatcherTests {
        @Test func appendingToAFileWakesWithin100ms() throws {
            let dir = try TemporaryDirectory()
            let path = try dir.write("app.log", "a\n")
            let recorder = WakeRecorder()
            let watcher = try #require(FileWatcher(directories: [dir.path]) { recorder.wake() })
            defer { watcher.stop() }
            usleep(50_000)  // let the `dir.write` above settle (its events may still be queued)
            recorder.arm()
            try append(path, "b\n")
            let latency = try #require(recorder.latency())
            #expect(latency < .milliseconds(100))
        }

        @Test func creatingAFileWakes() throws {
            let dir = try TemporaryDirectory()
            let recorder = WakeRecorder()
            let watcher = try #require(FileWatcher(directories: [dir.path]) { recorder.wake() })
            defer { watcher.stop() }
            recorder.arm()
            #expect(creat(dir.url("new.log"), 0o644) >= 0)
            let latency = try #require(recorder.latency())
            #expect(latency < .milliseconds(100))
        }

        @Test func renameAndDeleteWake() throws {
            let dir = try TemporaryDirectory()
            let path = try dir.write("app.log", "a\n")
            let recorder = WakeRecorder()
            let watcher = try #require(FileWatcher(directories: [dir.path]) { recorder.wake() })
            defer { watcher.stop() }
            usleep(50_000)
            recorder.arm()
            #expect(rename(path, path + ".1") == 0)
            #expect(recorder.latency() != nil)
            usleep(50_000)
            recorder.arm()
            #expect(unlink(path + ".1") == 0)
            #expect(recorder.latency() != nil)
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
            let elapsed = ContinuousClock.now - start
            usleep(200_000)
            let bound = Int(elapsed / .milliseconds(50)) + 6
            #expect(recorder.count >= 1)
            #expect(recorder.count <= bound)
        }

        @Test func unrelatedDirectoriesDoNotWake() throws {
            let watched = try TemporaryDirectory()
            let other = try TemporaryDirectory()
            let recorder = WakeRecorder()
            let watcher = try #require(FileWatcher(directories: [watched.path]) { recorder.wake() })
            defer { watcher.stop() }
            try other.write("x.log", "x\n")
            usleep(100_000)
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
            usleep(50_000)
            recorder.arm()
            try dir.write("later/app.log", "a\n")
            let latency = try #require(recorder.latency())
            #expect(latency < .milliseconds(100))
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
            let deadline = ContinuousClock.now + .seconds(2)
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
            let stopStart = ContinuousClock.now
            watcher.stop()  // joins the thread
            #expect(ContinuousClock.now - stopStart < .seconds(1))
            let count = recorder.count
            try append(path, "b\n")
            usleep(100_000)
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
            usleep(100_000)
            let count = recorder.count
            #expect(count == 1)
            try dir.write("b.log", "b\n")
            usleep(100_000)
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
            usleep(100_000)
            #expect(recorder.count == 0)
        }
    }
#endif
