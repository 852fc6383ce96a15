/// The small pieces of deciding what file a path holds (the decision itself is `CheckpointTable.match` in
/// Checkpoints, which asks ``Probe`` answers of the caller).
public enum FileIdentity {
    public struct FileID: Hashable, Sendable {
        public var device: UInt64
        public var inode: UInt64

        public init(device: UInt64, inode: UInt64) {
            self.device = device
            self.inode = inode
        }

        public init(_ stat: FileStat) {
            self.init(device: stat.device, inode: stat.inode)
        }
    }

    /// What a look at an entry's own file says about a newly seen file that begins like it.
    public enum Probe: Equatable, Sendable {
        /// The entry's file is there, unchanged, and holds the same bytes as the new file where both have them.
        case same
        /// The entry's file is there, unchanged, and is a prefix of the new file (`size` bytes): the entry's file
        /// is the copy, the new one its longer original.
        case prefixOf(size: UInt64)
        /// The entry's file is there, unchanged, and the two differ: distinct files that share a head.
        case different
        /// The entry's file is gone, or no longer holds what was read from it: the new file is its rotated copy.
        case gone
    }

    /// The hash of a head's first line (through its newline), or of the whole head when it holds none.
    public static func firstLineHash(_ head: [UInt8]) -> String {
        let end = head.firstIndex(of: 0x0A).map { $0 + 1 } ?? head.count
        return Fingerprint.of(head.prefix(end)).hash
    }

    /// A key made unique with the file's device and inode (and a counter, for the unlikely repeat).
    public static func saltedKey(_ base: String, device: UInt64, inode: UInt64, salt: UInt64) -> String {
        var bytes = Array(base.utf8)
        for v in [device, inode, salt] {
            var v = v
            for _ in 0..<8 {
                bytes.append(UInt8(truncatingIfNeeded: v))
                v >>= 8
            }
        }
        return Fingerprint.of(bytes).hash
    }

    /// Whether an open plain file read up to `position` no longer holds what it was identified by: it is shorter than
    /// the position, or its first bytes (`head`, up to `anchor.length` of them, read now) are not those its
    /// fingerprint was made from. The second catches a file truncated and written again past the position before the
    /// reader looked, which a size check alone takes for growth (it would read the new content from the old offset,
    /// losing its start and cutting a line in two).
    public static func isTruncated(size: UInt64, position: UInt64, head: [UInt8], anchor: Fingerprint?) -> Bool {
        if size < position { return true }
        guard let anchor else { return false }
        return !anchor.matches(prefixOf: head)
    }

    /// How many bytes at the end of the common length are compared between two files.
    public static let window = 1024
    /// How far a compressed file is inflated to compare it (bounded work for a new `.gz`).
    public static let compressedCompareLimit = 64 * 1024

    /// Compares two files' contents where both have them: the last ``window`` bytes of their common length (the
    /// whole of it for short files). `aSize`/`bSize` are plain sizes, or `nil` for compressed files (then up to
    /// ``compressedCompareLimit`` bytes are inflated). `nil` when either cannot be read.
    public static func sameContent(
        _ a: String, aSize: UInt64?, _ b: String, bSize: UInt64?, in fs: any FileSystem = LocalFileSystem()
    ) -> Bool? {
        if let aSize, let bSize {
            let w = min(aSize, bSize)
            let from = w > UInt64(window) ? w - UInt64(window) : 0
            let count = Int(w - from)
            guard let x = try? fs.readRange(a, from: from, count: count),
                let y = try? fs.readRange(b, from: from, count: count), x.count == count
            else { return nil }
            return x == y
        }
        let limit = compressedCompareLimit
        guard let x = try? fs.readRange(a, from: 0, count: min(limit, Int(aSize ?? UInt64(limit)))),
            let y = try? fs.readRange(b, from: 0, count: min(limit, Int(bSize ?? UInt64(limit))))
        else { return nil }
        let w = min(x.count, y.count)
        let from = max(0, w - window)
        return x[from..<w] == y[from..<w]
    }
}
