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

    /// Truncation of an open file: shorter than the read position, or (with an anchor) no longer beginning with the
    /// bytes it was identified by, which is how a refill past the read position is told from growth.
    @Test func truncationIsToldBySizeOrByTheHead() {
        let head = Array("{\"id\":\"d-1\"}\n{\"id\":\"d-2\"}\n".utf8)
        let anchor = Fingerprint.of(head)
        let refill = Array("{\"id\":\"d-9\"}\n{\"id\":\"d-10\"}\n".utf8)
        #expect(!FileIdentity.isTruncated(size: 100, position: 60, head: head, anchor: anchor))
        #expect(!FileIdentity.isTruncated(size: 60, position: 60, head: head + [0x7B], anchor: anchor))
        #expect(FileIdentity.isTruncated(size: 20, position: 60, head: head, anchor: anchor))
        let refilled = Array(refill.prefix(head.count))
        #expect(FileIdentity.isTruncated(size: 100, position: 60, head: refilled, anchor: anchor))
        #expect(FileIdentity.isTruncated(size: 100, position: 60, head: Array(head.prefix(10)), anchor: anchor))
        // Without an anchor only the size tells.
        #expect(!FileIdentity.isTruncated(size: 100, position: 60, head: refill, anchor: nil))
        #expect(FileIdentity.isTruncated(size: 59, position: 60, head: [], anchor: nil))
    }

    @Test func saltedKeysDependOnDeviceInodeAndSalt() {
        let a = FileIdentity.saltedKey("abc", device: 1, inode: 7, salt: 0)
        #expect(a == FileIdentity.saltedKey("abc", device: 1, inode: 7, salt: 0))
        #expect(a != FileIdentity.saltedKey("abc", device: 1, inode: 8, salt: 0))
        #expect(a != FileIdentity.saltedKey("abc", device: 1, inode: 7, salt: 1))
    }
}
