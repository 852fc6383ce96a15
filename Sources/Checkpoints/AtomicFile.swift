import SystemIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whole-file reads and crash-safe replacement, with owner-only permissions.
public enum AtomicFile {
    public static func read(_ path: String) throws(CheckpointError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(path, "cannot open") }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { POSIXIO.read(fd, into: $0) }
            if n < 0 { throw failure(path, "cannot read") }
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<n])
        }
        return result
    }

    /// Replaces `path` with `bytes`: write `path.tmp`, fsync, rename, fsync the directory. Mode 0600.
    public static func write(_ bytes: [UInt8], to path: String) throws(CheckpointError) {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure(tmp, "cannot create") }
        let written = POSIXIO.write(fd, bytes)
        if !written.succeeded {
            let error = failure(tmp, "cannot write", code: written.errno)
            close(fd)
            unlink(tmp)
            throw error
        }
        fchmod(fd, 0o600)
        if fsync(fd) != 0 {
            let error = failure(tmp, "cannot flush to disk")
            close(fd)
            unlink(tmp)
            throw error
        }
        close(fd)
        guard rename(tmp, path) == 0 else {
            let error = failure(path, "cannot replace")
            unlink(tmp)
            throw error
        }
        syncDirectory(of: path)
    }

    /// Makes a rename durable by flushing the directory entry.
    public static func syncDirectory(of path: String) {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let fd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// Creates a directory and its parents with mode 0700 when missing.
    public static func makeDirectory(_ path: String) throws(CheckpointError) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o700) != 0, errno != EEXIST {
                throw failure(current, "cannot create directory")
            }
        }
    }

    static func failure(_ path: String, _ action: String, code: Int32 = errno) -> CheckpointError {
        var hint = ""
        switch code {
        case EACCES, EPERM: hint = "; give the agent's user write access, or choose another state.directory"
        case ENOSPC: hint = "; free disk space (the agent holds its position until it can write)"
        case EROFS: hint = "; the file system is read-only, choose another state.directory"
        default: break
        }
        return .io(path, "\(action): \(String(cString: strerror(code)))\(hint)", errno: code)
    }
}
