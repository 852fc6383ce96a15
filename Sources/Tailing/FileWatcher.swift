import SystemIO

#if os(Linux)
    import Glibc
    import Synchronization
#endif

/// Wakes the tailer when something changes in the directories that hold its files, so new lines go out at once
/// instead of at the next poll.
///
/// Linux inotify watches the directories (the glob base directories, plus subdirectories found by rescans): a file
/// created, written, closed, moved, deleted or changed in its attributes inside one of them calls `onChange` from the
/// watcher's own thread. Bursts are coalesced: the callback runs at most once per `minimumInterval`, however many
/// events arrived, so it should only note that a look is due (resume a waiter, set a flag) and return.
///
/// ``takeChanges()`` says which files were written since it was last called, so the tailer looks only at those; it
/// still rescans and stats its files now and then, which keeps it correct when the kernel's event queue overflows
/// (``Changes/all``) or a file is reached through a symbolic link that inotify does not follow. Where inotify is
/// missing (other systems, or the per-user instance limit is reached) `init` fails and the tailer polls.
public final class FileWatcher: Sendable {
    #if os(Linux)
        private let core: Core
    #endif

    /// Starts watching `directories` (missing ones are skipped; add them later with ``update(directories:)``).
    /// Returns `nil` when inotify is unavailable: poll instead.
    public init?(
        directories: [String], minimumInterval: Duration = .milliseconds(20),
        onChange: @escaping @Sendable () -> Void
    ) {
        #if os(Linux)
            guard let core = Core(minimumInterval: minimumInterval, onChange: onChange) else { return nil }
            self.core = core
            _ = core.update(directories)
            guard core.start() else { return nil }
        #else
            return nil
        #endif
    }

    deinit {
        stop()
    }

    /// Adds watches for the directories not watched yet (found by a rescan). A directory that is deleted or moved
    /// away drops out by itself, and is watched again when a later update names it and it exists.
    /// Returns the directories that could not be watched (missing, unreadable, or over the inotify watch limit,
    /// `fs.inotify.max_user_watches`): changes there are seen only by polling.
    @discardableResult
    public func update(directories: [String]) -> [String] {
        #if os(Linux)
            core.update(directories)
        #else
            directories
        #endif
    }

    /// What changed in the watched directories since the last call.
    public struct Changes: Sendable, Equatable {
        /// Files written (`IN_MODIFY`, `IN_CLOSE_WRITE`), as the watched directory's path + "/" + the file's name.
        public var written: Set<String> = []
        /// Something other than a write: a file created, moved, deleted or changed in its attributes, a directory
        /// gone. The tailer rescans.
        public var structural = false
        /// Events were lost (the kernel's queue overflowed, or more files were written than ``maxWrittenPaths``):
        /// anything may have changed.
        public var all = false

        public init(written: Set<String> = [], structural: Bool = false, all: Bool = false) {
            self.written = written
            self.structural = structural
            self.all = all
        }
    }

    /// Written files remembered between two calls of ``takeChanges()``; past it, the watcher says ``Changes/all``.
    public static let maxWrittenPaths = 4096

    /// What changed since the last call (everything seen before the last `onChange` is included).
    public func takeChanges() -> Changes {
        #if os(Linux)
            core.takeChanges()
        #else
            Changes(all: true)
        #endif
    }

    /// The directories watched now.
    public var watchedDirectories: [String] {
        #if os(Linux)
            core.watched
        #else
            []
        #endif
    }

    /// Stops the thread and waits for it to end (unless called from `onChange` itself); no callback runs after
    /// `stop()` returns. Calling it again does nothing.
    public func stop() {
        #if os(Linux)
            core.stop()
        #endif
    }
}

#if os(Linux)

    // MARK: - Linux

    extension FileWatcher {
        /// What the watcher thread owns. A separate object so that the thread's reference does not keep the public
        /// `FileWatcher` alive: dropping the last `FileWatcher` stops the thread.
        final class Core: Sendable {
            static let mask: UInt32 =
                UInt32(IN_CREATE) | UInt32(IN_MOVED_TO) | UInt32(IN_MODIFY) | UInt32(IN_CLOSE_WRITE)
                | UInt32(IN_DELETE) | UInt32(IN_MOVED_FROM) | UInt32(IN_ATTRIB) | UInt32(IN_DELETE_SELF)
                | UInt32(IN_MOVE_SELF) | UInt32(IN_ONLYDIR)

            struct State {
                var byPath: [String: Int32] = [:]
                var byDescriptor: [Int32: Set<String>] = [:]
                var thread: pthread_t?
                var stopped = false
                var changes = Changes()
            }

            private let inotify: Int32
            /// A pipe that `stop()` writes to, to wake the thread out of `poll` (it is never read: once readable, it stays so).
            private let wakeup: Int32
            private let wakeupWriter: Int32
            private let minimumInterval: Duration
            private let onChange: @Sendable () -> Void
            private let state = Mutex(State())

            init?(minimumInterval: Duration, onChange: @escaping @Sendable () -> Void) {
                let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
                guard fd >= 0 else { return nil }
                var pipe: [Int32] = [-1, -1]
                guard Glibc.pipe(&pipe) == 0 else {
                    close(fd)
                    return nil
                }
                for end in pipe { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
                inotify = fd
                wakeup = pipe[0]
                wakeupWriter = pipe[1]
                self.minimumInterval = minimumInterval
                self.onChange = onChange
            }

            deinit {
                close(inotify)
                close(wakeup)
                close(wakeupWriter)
            }

            var watched: [String] { state.withLock { $0.byPath.keys.sorted() } }

            func takeChanges() -> Changes {
                state.withLock { state in
                    defer { state.changes = Changes() }
                    return state.changes
                }
            }

            func start() -> Bool {
                let box = Unmanaged.passRetained(self)
                var thread = pthread_t()
                let rc = pthread_create(
                    &thread, nil,
                    { raw in
                        let core = Unmanaged<Core>.fromOpaque(raw!).takeRetainedValue()
                        core.run()
                        return nil
                    }, box.toOpaque())
                guard rc == 0 else {
                    box.release()
                    return false
                }
                state.withLock { $0.thread = thread }
                return true
            }

            func update(_ directories: [String]) -> [String] {
                state.withLock { state in
                    guard !state.stopped else { return directories }
                    var failed: [String] = []
                    for directory in directories where state.byPath[directory] == nil {
                        let wd = inotify_add_watch(inotify, directory, Self.mask)
                        guard wd >= 0 else {
                            failed.append(directory)
                            continue
                        }
                        state.byPath[directory] = wd
                        // Two spellings of one directory (a symbolic link) share a wd.
                        state.byDescriptor[wd, default: []].insert(directory)
                    }
                    return failed
                }
            }

            func stop() {
                let thread: pthread_t? = state.withLock { state in
                    defer { state.thread = nil }
                    state.stopped = true
                    return state.thread
                }
                guard let thread else { return }
                var one: UInt8 = 1
                _ = write(wakeupWriter, &one, 1)
                if pthread_equal(thread, pthread_self()) != 0 {
                    pthread_detach(thread)  // stop() from inside onChange: the loop ends when the callback returns
                } else {
                    pthread_join(thread, nil)
                }
            }

            // MARK: Thread

            private var isStopped: Bool { state.withLock { $0.stopped } }

            private func run() {
                var buffer = [UInt8](repeating: 0, count: 16 * 1024)
                while !isStopped {
                    guard wait(timeoutMilliseconds: -1) else { continue }
                    guard drain(&buffer), !isStopped else { continue }
                    onChange()
                    // Coalesce: let events pile up in the kernel queue until the interval has passed.
                    let (seconds, attoseconds) = minimumInterval.components
                    let pause = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
                    if pause > 0 { _ = waitForStop(timeoutMilliseconds: pause) }
                }
            }

            /// Waits until inotify has events (true) or `stop()` was called or the wait was interrupted (false).
            private func wait(timeoutMilliseconds: Int32) -> Bool {
                var fds = [
                    pollfd(fd: inotify, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: wakeup, events: Int16(POLLIN), revents: 0),
                ]
                let rc = poll(&fds, 2, timeoutMilliseconds)
                return rc > 0 && fds[1].revents == 0 && fds[0].revents != 0
            }

            /// Sleeps up to `timeoutMilliseconds`, returning early (true) when `stop()` is called.
            private func waitForStop(timeoutMilliseconds: Int32) -> Bool {
                var fd = pollfd(fd: wakeup, events: Int16(POLLIN), revents: 0)
                return poll(&fd, 1, timeoutMilliseconds) > 0
            }

            static let writes = UInt32(IN_MODIFY) | UInt32(IN_CLOSE_WRITE)

            /// Reads every queued event, notes what changed; forgets watches the kernel removed. Returns whether
            /// anything was read.
            private func drain(_ buffer: inout [UInt8]) -> Bool {
                var any = false
                while true {
                    let n = buffer.withUnsafeMutableBytes { POSIXIO.read(inotify, into: $0) }
                    guard n > 0 else { return any }  // EAGAIN: the queue is empty
                    any = true
                    buffer.withUnsafeBytes { raw in
                        var at = 0
                        let header = MemoryLayout<inotify_event>.size
                        while at + header <= n {
                            let wd = raw.loadUnaligned(fromByteOffset: at, as: Int32.self)
                            let mask = raw.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self)
                            let length = Int(raw.loadUnaligned(fromByteOffset: at + 12, as: UInt32.self))
                            if mask & UInt32(IN_IGNORED) != 0 { forget(wd) }
                            let name = raw[(at + header)..<min(n, at + header + length)].prefix { $0 != 0 }
                            note(wd: wd, mask: mask, name: String(decoding: name, as: UTF8.self))
                            at += header + length
                        }
                    }
                }
            }

            private func note(wd: Int32, mask: UInt32, name: String) {
                state.withLock { state in
                    guard !state.changes.all else { return }
                    if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                        state.changes = Changes(all: true)
                    } else if mask & Self.writes != 0, !name.isEmpty, let directories = state.byDescriptor[wd] {
                        for directory in directories {
                            state.changes.written.insert(
                                directory.hasSuffix("/") ? directory + name : directory + "/" + name)
                        }
                        if state.changes.written.count > FileWatcher.maxWrittenPaths {
                            state.changes = Changes(all: true)
                        }
                    } else if mask & Self.writes == 0 || state.byDescriptor[wd] == nil {
                        state.changes.structural = true
                    }
                }
            }

            /// The kernel dropped watch `wd` (its directory was deleted or unmounted): a later update may add it again.
            private func forget(_ wd: Int32) {
                state.withLock { state in
                    for path in state.byDescriptor.removeValue(forKey: wd) ?? [] { state.byPath[path] = nil }
                }
            }
        }
    }

#endif
