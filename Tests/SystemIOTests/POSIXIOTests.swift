import Foundation
import TestSupport
import Testing

@testable import SystemIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@Suite struct POSIXIOTests {
    /// Bytes that are not the same from one block to the next, so a misplaced chunk shows.
    static func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) } }

    @Test func writeAllThenReadBackInChunksAndAtOffsets() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("data")
        let bytes = Self.pattern(3 * 1024 * 1024 + 17)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        let written = POSIXIO.write(fd, bytes)
        close(fd)
        #expect(written == POSIXIO.Written(count: bytes.count, errno: 0))
        #expect(written.succeeded)

        let rd = open(path, O_RDONLY | O_CLOEXEC)
        try #require(rd >= 0)
        defer { close(rd) }
        var back: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 100_000)
        while true {
            let n = chunk.withUnsafeMutableBytes { POSIXIO.read(rd, into: $0) }
            try #require(n >= 0)
            if n == 0 { break }
            back += chunk[0..<n]
        }
        #expect(back == bytes)

        var slice = [UInt8](repeating: 0, count: 64)
        let n = slice.withUnsafeMutableBytes { POSIXIO.read(rd, into: $0, at: 1_000_000) }
        #expect(n == 64)
        #expect(slice == Array(bytes[1_000_000..<1_000_064]))
        // At the end: fewer bytes, then none.
        let tail = slice.withUnsafeMutableBytes { POSIXIO.read(rd, into: $0, at: Int64(bytes.count - 10)) }
        #expect(tail == 10)
        #expect(slice.withUnsafeMutableBytes { POSIXIO.read(rd, into: $0, at: Int64(bytes.count)) } == 0)
    }

    /// More than a pipe's buffer, written while another thread reads it: everything arrives, in order.
    @Test func writeAllContinuesThroughAPipe() async throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        let (reader, writer) = (ends[0], ends[1])
        let bytes = Self.pattern(1024 * 1024 + 3)
        let received = Task.detached { () -> [UInt8] in
            var all: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = chunk.withUnsafeMutableBytes { POSIXIO.read(reader, into: $0) }
                if n <= 0 { break }
                all += chunk[0..<n]
            }
            close(reader)
            return all
        }
        let written = POSIXIO.write(writer, bytes)
        close(writer)
        #expect(written.succeeded)
        #expect(written.count == bytes.count)
        #expect(await received.value == bytes)
    }

    @Test func failuresReturnTheirErrno() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try dir.write("file", "abc")
        let fd = open(dir.file("file"), O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        // Written to a descriptor opened for reading: nothing written, EBADF kept for the caller.
        let written = POSIXIO.write(fd, [1, 2, 3])
        #expect(written == POSIXIO.Written(count: 0, errno: EBADF))
        #expect(!written.succeeded)
        // An empty write succeeds without calling write(2).
        #expect(POSIXIO.write(fd, []).succeeded)

        let dfd = open(dir.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try #require(dfd >= 0)
        defer { close(dfd) }
        var buffer = [UInt8](repeating: 0, count: 16)
        let n = buffer.withUnsafeMutableBytes { POSIXIO.read(dfd, into: $0) }
        let code = errno
        #expect(n == -1 && code == EISDIR, "\(n) \(code)")
        let m = buffer.withUnsafeMutableBytes { POSIXIO.read(dfd, into: $0, at: 0) }
        let atCode = errno
        #expect(m == -1 && atCode == EISDIR, "\(m) \(atCode)")
    }
}
