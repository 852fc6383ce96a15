import Testing

@testable import Tailing

/// The content comparison the identity probe rests on, and the pure helpers of ``FileIdentity``.
@Suite struct FileIdentityTests {
    @Test func sameContentComparesTheEndOfTheCommonLength() throws {
        let dir = try TemporaryDirectory()
        let banner = String(repeating: "#", count: 2000) + "\n"
        let a = try dir.write("a", banner + "alpha\n")
        let b = try dir.write("b", banner + "bravo\n")
        let c = try dir.write("c", banner + "alpha\nmore\n")
        #expect(FileIdentity.sameContent(a, aSize: 2007, b, bSize: 2007) == false)
        #expect(FileIdentity.sameContent(a, aSize: 2007, c, bSize: 2012) == true)
        #expect(FileIdentity.sameContent(a, aSize: 2007, dir.url("missing"), bSize: 2007) == nil)
    }

    @Test func firstLineHashCoversTheFirstLineOnly() {
        let one = Array("{\"n\":1}\n{\"n\":2}\n".utf8)
        let other = Array("{\"n\":1}\n{\"n\":3}\n".utf8)
        #expect(FileIdentity.firstLineHash(one) == FileIdentity.firstLineHash(other))
        #expect(FileIdentity.firstLineHash(Array("{\"n\":1}".utf8)) != FileIdentity.firstLineHash(one))
    }

    @Test func saltedKeysDependOnDeviceInodeAndSalt() {
        let a = FileIdentity.saltedKey("abc", device: 1, inode: 7, salt: 0)
        #expect(a == FileIdentity.saltedKey("abc", device: 1, inode: 7, salt: 0))
        #expect(a != FileIdentity.saltedKey("abc", device: 1, inode: 8, salt: 0))
        #expect(a != FileIdentity.saltedKey("abc", device: 1, inode: 7, salt: 1))
    }
}
