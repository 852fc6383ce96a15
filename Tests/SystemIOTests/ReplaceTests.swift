import Foundation
import TestSupport
import Testing

@testable import SystemIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `POSIXIO.replace`: the whole new content or the old, owner-only, whatever mode was there before.
@Suite struct ReplaceTests {
    func mode(_ path: String) -> mode_t {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_mode & 0o777 : 0
    }

    @Test func replacesTheContentOwnerOnlyAndLeavesNoTemporaryFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("state.json")
        try dir.write("state.json", "old content, longer than the new")
        chmod(path, 0o644)
        // A temporary file left by a crash, world-readable: taken over and tightened too.
        try dir.write("state.json.tmp", "torn")
        chmod(path + ".tmp", 0o666)
        let new = Array("{\"v\":2}".utf8)
        try POSIXIO.replace(path, with: new)
        #expect(try dir.read("state.json") == "{\"v\":2}")
        #expect(mode(path) == 0o600)
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
    }

    @Test func aMissingDirectoryFailsAtCreateWithItsErrno() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("absent/state.json")
        #expect(throws: POSIXIO.ReplaceFailure(step: .create, path: path + ".tmp", errno: ENOENT)) {
            try POSIXIO.replace(path, with: [])
        }
    }
}
