#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What `stat(2)` says about a file, as far as following it needs.
public struct FileStat: Sendable, Hashable {
    public var device: UInt64
    public var inode: UInt64
    public var size: UInt64
    /// Modification time, epoch milliseconds.
    public var modified: Int64
    public var isRegularFile: Bool

    public init(device: UInt64, inode: UInt64, size: UInt64, modified: Int64, isRegularFile: Bool = true) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modified = modified
        self.isRegularFile = isRegularFile
    }

    /// Follows symbolic links; `nil` when the file does not exist (or cannot be examined).
    public static func of(path: String) -> FileStat? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileStat(st)
    }

    /// Where inotify reports writes to the file at `path`: `path` itself, or, when `path` is a symbolic link
    /// (`lstat(2)`), the canonical path it leads to (`realpath(3)`); `nil` when that cannot be found.
    public static func writtenPath(of path: String) -> String? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        guard (st.st_mode & S_IFMT) == S_IFLNK else { return path }
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    public static func of(descriptor fd: Int32) -> FileStat? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return FileStat(st)
    }

    init(_ st: stat) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = UInt64(st.st_size)
        #if canImport(Darwin)
            modified = Int64(st.st_mtimespec.tv_sec) * 1000 + Int64(st.st_mtimespec.tv_nsec) / 1_000_000
        #else
            modified = Int64(st.st_mtim.tv_sec) * 1000 + Int64(st.st_mtim.tv_nsec) / 1_000_000
        #endif
        isRegularFile = (st.st_mode & S_IFMT) == S_IFREG
    }
}

/// An error from the file system, with the path and what to do about it.
public struct TailingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var errno: Int32?

    public init(path: String, message: String, errno: Int32? = nil) {
        self.path = path
        self.message = message
        self.errno = errno
    }

    static func system(_ path: String, _ action: String, _ code: Int32 = currentErrno()) -> TailingError {
        let reason = String(cString: strerror(code))
        var hint = ""
        if code == EACCES || code == EPERM { hint = "; give the agent's user read access to it" }
        return TailingError(path: path, message: "cannot \(action): \(reason)\(hint)", errno: code)
    }

    public var description: String { "\(path): \(message)" }
}

@inline(__always)
func currentErrno() -> Int32 {
    errno
}
