#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `read(2)`, `pread(2)` and `write(2)` with the retries every caller needs (an interrupted call is made again, a
/// short write is continued), under names that types with `read`/`write` methods of their own do not shadow.
///
/// Failures return the `errno` they saw, so that a caller's clean-up (close, unlink) cannot overwrite it before it is
/// reported.
public enum POSIXIO {
    /// Reads into `buffer`: the number of bytes read, 0 at end of file, or -1 with `errno` set.
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            #if canImport(Glibc)
                let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            #else
                let n = Darwin.read(fd, buffer.baseAddress, buffer.count)
            #endif
            if n < 0 && errno == EINTR { continue }
            return n
        }
    }

    /// Reads into `buffer` from `offset` without moving the file position; results as ``read(_:into:)``.
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int {
        while true {
            let n = pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
            if n < 0 && errno == EINTR { continue }
            return n
        }
    }

    /// What ``write(_:_:)`` managed: all the bytes (`errno` 0), or those before `write(2)` failed with `errno`.
    public struct Written: Sendable, Equatable {
        public var count: Int
        public var errno: Int32
        public var succeeded: Bool { errno == 0 }
    }

    /// Writes all of `bytes` to `fd`.
    public static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Written {
        var done = 0
        while done < bytes.count {
            #if canImport(Glibc)
                let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            #else
                let n = Darwin.write(fd, bytes.baseAddress! + done, bytes.count - done)
            #endif
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                return Written(count: done, errno: code)
            }
            done += n
        }
        return Written(count: done, errno: 0)
    }

    /// Writes all of `bytes` to `fd`, as the buffer form does.
    public static func write(_ fd: Int32, _ bytes: [UInt8]) -> Written {
        bytes.withUnsafeBytes { write(fd, $0) }
    }
}
