/// The file-system look-ups that following files needs: ``FileTracker`` asks them through this, so that its tests
/// can answer with a fake (no real files, no timing).
public protocol FileSystem {
    /// What `stat(2)` says about `path` (following symbolic links); `nil` when there is nothing there.
    func stat(_ path: String) -> FileStat?
    /// A new file's first bytes and whether it is gzip (``Fingerprint/readFileHead(path:)``).
    func head(_ path: String) throws(TailingError) -> FileHead
    /// `count` decompressed bytes from offset `from` (``Fingerprint/readRange(path:from:count:)``).
    func readRange(_ path: String, from: UInt64, count: Int) throws(TailingError) -> [UInt8]
}

/// The real file system.
public struct LocalFileSystem: FileSystem, Sendable {
    public init() {}

    public func stat(_ path: String) -> FileStat? { FileStat.of(path: path) }

    public func head(_ path: String) throws(TailingError) -> FileHead { try Fingerprint.readFileHead(path: path) }

    public func readRange(_ path: String, from: UInt64, count: Int) throws(TailingError) -> [UInt8] {
        try Fingerprint.readRange(path: path, from: from, count: count)
    }
}
