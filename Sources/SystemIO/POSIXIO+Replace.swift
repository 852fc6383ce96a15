#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension POSIXIO {
    /// Where ``replace(_:with:)`` failed: the step, the path it acted on and the `errno` it saw.
    public struct ReplaceFailure: Error, Sendable, Equatable {
        public enum Step: String, Sendable { case create, write, flush, rename }
        public var step: Step
        public var path: String
        public var errno: Int32
    }

    /// Replaces `path` with `bytes` so that a reader or a crash finds the old content or the new, never a mix:
    /// writes `path.tmp` with `mode` (also when it existed with another mode), fsyncs it when `durable`, renames it
    /// over `path` and then fsyncs the directory. The default, owner-only and durable, is for state: checkpoints and
    /// upload records hold file paths and positions that are nobody else's business and must survive a power loss.
    /// A file rewritten every few seconds for others to read (the metrics textfile) passes 0644 and not durable.
    public static func replace(
        _ path: String, with bytes: [UInt8], mode: mode_t = 0o600, durable: Bool = true
    ) throws(ReplaceFailure) {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ReplaceFailure(step: .create, path: tmp, errno: errno) }
        let written = write(fd, bytes)
        if !written.succeeded {
            close(fd)
            unlink(tmp)
            throw ReplaceFailure(step: .write, path: tmp, errno: written.errno)
        }
        fchmod(fd, mode)
        if durable, fsync(fd) != 0 {
            let code = errno
            close(fd)
            unlink(tmp)
            throw ReplaceFailure(step: .flush, path: tmp, errno: code)
        }
        close(fd)
        guard rename(tmp, path) == 0 else {
            let code = errno
            unlink(tmp)
            throw ReplaceFailure(step: .rename, path: path, errno: code)
        }
        if durable { syncDirectory(of: path) }
    }

    /// Makes a rename in the directory of `path` durable by flushing the directory.
    public static func syncDirectory(of path: String) {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let fd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
