import SystemIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One agent per state directory: an advisory `flock` on `<state>/lock`, which the kernel releases when the process
/// dies, so a `kill -9` never leaves a stale lock behind. The holder's pid is written into the file for the
/// error message of the next one.
public final class StateLock: Sendable {
    public let path: String
    private let descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    /// Takes the lock; with `wait`, blocks until the other process lets go.
    public static func acquire(directory: String, wait: Bool) throws(CheckpointError) -> StateLock {
        let path = directory + "/lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AtomicFile.failure(path, "cannot open the lock file") }
        while flock(fd, wait ? LOCK_EX : (LOCK_EX | LOCK_NB)) != 0 {
            if errno == EINTR { continue }
            let code = errno
            var holder = [UInt8](repeating: 0, count: 32)
            let n = holder.withUnsafeMutableBytes { POSIXIO.read(fd, into: $0, at: 0) }
            close(fd)
            if code == EWOULDBLOCK {
                let pid =
                    n > 0
                    ? String(decoding: holder[0..<n], as: UTF8.self)
                        .trimmingCharacters(in: .whitespacesAndNewlines) : "unknown"
                throw .locked(
                    directory,
                    "another personalize-tail (pid \(pid)) is using this state directory; stop it, wait for it "
                        + "(--wait-lock), or give this one its own state.directory")
            }
            throw AtomicFile.failure(path, "cannot lock", code: code)
        }
        let pid = Array("\(getpid())\n".utf8)
        ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return StateLock(path: path, descriptor: fd)
    }

    deinit {
        close(descriptor)
    }
}

extension String {
    fileprivate func trimmingCharacters(in _: WhitespaceSet) -> String {
        String(self.drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
    }
}

private enum WhitespaceSet { case whitespacesAndNewlines }

/// Facts about where state lives.
public enum StateDirectory {
    /// True when `path` sits on tmpfs or ramfs (RAM): state there is lost at reboot and everything would be re-sent.
    /// Read from `/proc/self/mounts`: the mount with the longest prefix of the resolved path decides.
    public static func isOnTmpfs(_ path: String) -> Bool {
        guard let resolved = realpath(path, nil) else { return false }
        let full = String(cString: resolved)
        free(resolved)
        guard let mounts = try? AtomicFile.read("/proc/self/mounts") else { return false }
        var best = (length: -1, type: "")
        for line in String(decoding: mounts, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { continue }
            let point = String(fields[1]).replacingOctalEscapes()
            let matches = point == "/" || full == point || full.hasPrefix(point + "/")
            // `>=`: a later line for the same mount point is a mount on top of the earlier one, and hides it.
            if matches, point.count >= best.length { best = (point.count, String(fields[2])) }
        }
        return best.type == "tmpfs" || best.type == "ramfs"
    }
}

extension String {
    /// `/proc/mounts` writes spaces in paths as `\040`.
    fileprivate func replacingOctalEscapes() -> String {
        guard contains("\\") else { return self }
        var out: [UInt8] = []
        let bytes = Array(utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\\"), i + 3 < bytes.count,
                let v = UInt8(String(decoding: bytes[(i + 1)...(i + 3)], as: UTF8.self), radix: 8)
            {
                out.append(v)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
