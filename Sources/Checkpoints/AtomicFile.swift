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

    /// Replaces `path` with `bytes`: write `path.tmp`, fsync, rename, fsync the directory. Mode 0600. (See
    /// ``POSIXIO/replace(_:with:)``; this adds the hint a state directory's owner needs.)
    public static func write(_ bytes: [UInt8], to path: String) throws(CheckpointError) {
        do throws(POSIXIO.ReplaceFailure) {
            try POSIXIO.replace(path, with: bytes)
        } catch {
            let action: String
            switch error.step {
            case .create: action = "cannot create"
            case .write: action = "cannot write"
            case .flush: action = "cannot flush to disk"
            case .rename: action = "cannot replace"
            }
            throw failure(error.path, action, code: error.errno)
        }
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
