import Crypto
import Gzip
import SystemIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file's identity by content: a hash of its first bytes, computed on the *decompressed* stream.
///
/// A file shorter than ``fullLength`` is fingerprinted over what it has (`length` says how much), so short files are
/// read at once; as the file grows its fingerprint grows too, and ``matches(prefixOf:)`` checks that a longer file
/// still starts with the bytes an earlier, shorter fingerprint saw. A rotated copy that was gzipped afterwards has
/// the same fingerprint as the plain file it came from, which is how it is recognised as already read.
public struct Fingerprint: Sendable, Hashable, Codable, CustomStringConvertible {
    public static let fullLength = 1024

    /// Hex SHA-256 (first 16 bytes) of the first `length` bytes.
    public var hash: String
    public var length: Int

    public init(hash: String, length: Int) {
        self.hash = hash
        self.length = length
    }

    public var isComplete: Bool { length >= Self.fullLength }
    public var description: String { "\(hash.prefix(12))/\(length)" }

    public static func of(_ bytes: some Collection<UInt8>) -> Fingerprint {
        let digest = SHA256.hash(data: Array(bytes))
        var hex = ""
        hex.reserveCapacity(32)
        let digits = Array("0123456789abcdef".utf8)
        for byte in digest.prefix(16) {
            hex.unicodeScalars.append(UnicodeScalar(digits[Int(byte >> 4)]))
            hex.unicodeScalars.append(UnicodeScalar(digits[Int(byte & 0xF)]))
        }
        return Fingerprint(hash: hex, length: bytes.count)
    }

    /// The fingerprint of the file at `path` (up to ``fullLength`` decompressed bytes); `nil` for an empty file.
    public static func of(path: String) throws(TailingError) -> Fingerprint? {
        let head = try readHead(path: path, count: fullLength)
        return head.isEmpty ? nil : of(head)
    }

    /// Whether `head` (the first bytes of a file) starts with the bytes this fingerprint was made from.
    public func matches(prefixOf head: [UInt8]) -> Bool {
        head.count >= length && Self.of(head.prefix(length)).hash == hash
    }

    /// The first `count` decompressed bytes of a file (fewer if it is shorter, or if a gzip stream is cut early).
    public static func readHead(path: String, count: Int) throws(TailingError) -> [UInt8] {
        try readRange(path: path, from: 0, count: count)
    }

    /// `count` decompressed bytes from offset `from` (fewer at the end); a gzip stream is inflated from its start and
    /// the bytes before `from` discarded, so memory stays bounded by `count` plus one block.
    public static func readRange(path: String, from: UInt64, count: Int) throws(TailingError) -> [UInt8] {
        try read(path: path, from: from, count: count).bytes
    }

    /// A new file's first ``fullLength`` decompressed bytes and whether it is gzip, from one read of the file: what
    /// identifying it and opening its reader both need (see ``FileHead``).
    public static func readFileHead(path: String) throws(TailingError) -> FileHead {
        let (bytes, gzip) = try read(path: path, from: 0, count: fullLength)
        return FileHead(bytes: bytes, isCompressed: gzip)
    }

    private static func read(path: String, from: UInt64, count: Int) throws(TailingError) -> (
        bytes: [UInt8], gzip: Bool
    ) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(path, "open it") }
        defer { close(fd) }
        var raw = [UInt8](repeating: 0, count: 64 * 1024)
        var position: off_t = 0
        var n = raw.withUnsafeMutableBytes { POSIXIO.read(fd, into: $0, at: Int64(position)) }
        guard n >= 0 else { throw .system(path, "read it") }  // EISDIR, EIO: not an empty file
        guard n > 0 else { return ([], false) }
        if !(n >= 2 && GzipFormat.hasGzipMagic(raw.prefix(2))) {
            if from == 0 { return (Array(raw.prefix(min(n, count))), false) }
            var out = [UInt8](repeating: 0, count: count)
            let got = out.withUnsafeMutableBytes { POSIXIO.read(fd, into: $0, at: Int64(from)) }
            return (got > 0 ? Array(out.prefix(got)) : [], false)
        }
        let inflater = GzipInflater()
        var out: [UInt8] = []
        var skip = from
        while n > 0, out.count < count {
            position += off_t(n)
            let chunk = Array(raw[0..<n])
            do throws(GzipError) {
                try inflater.inflate(chunk, into: &out)
            } catch {
                break
            }
            if skip > 0 {
                let drop = Int(min(skip, UInt64(out.count)))
                out.removeFirst(drop)
                skip -= UInt64(drop)
            }
            if out.count >= count { break }
            n = raw.withUnsafeMutableBytes { POSIXIO.read(fd, into: $0, at: Int64(position)) }
        }
        return (Array(out.prefix(count)), true)
    }
}

/// The first bytes of a new file, read once where the file is found, and the one decision of how it is read.
///
/// `isCompressed` comes from the file's magic bytes (`1f 8b`), whatever its name or the source's configured `format`:
/// the engine keeps it in the file's checkpoint and passes it to ``LogFileReader/init(path:startOffset:maxLineBytes:readSize:compressed:)``,
/// so the bytes read and the offsets saved always agree (a JSON line never starts with those bytes).
public struct FileHead: Sendable, Equatable {
    /// Up to ``Fingerprint/fullLength`` decompressed bytes.
    public var bytes: [UInt8]
    public var isCompressed: Bool

    public init(bytes: [UInt8], isCompressed: Bool) {
        self.bytes = bytes
        self.isCompressed = isCompressed
    }

    public var fingerprint: Fingerprint { Fingerprint.of(bytes) }
}
