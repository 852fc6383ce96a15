import JSON

/// How far one file has been delivered: every line before `offset` (in the decompressed stream) has been
/// acknowledged by the service or written to the dead-letter file.
public struct FileCheckpoint: Sendable, Hashable {
    /// Hex hash of the first `fingerprintLength` decompressed bytes (see `Tailing.Fingerprint`).
    public var fingerprint: String
    public var fingerprintLength: Int
    /// The file's identity for derived event ids: fixed when the file is first seen (the hash of its first bytes
    /// then, made unique among the files known), and carried with the checkpoint across renames, rotations,
    /// compression and restarts, while the fingerprint may still grow. Version-1 state has none: its fingerprint
    /// (what ids were derived from) stands in.
    public var key: String
    public var device: UInt64
    public var inode: UInt64
    /// Where the file was last seen (informational: identity is the fingerprint plus device and inode).
    public var path: String
    public var offset: UInt64
    /// File size at the last look (compressed size for gzip), for lag reporting.
    public var size: UInt64
    public var compressed: Bool
    /// A gzip file read to its end (or to damage): nothing more comes unless its size changes.
    public var finished: Bool
    /// Compressed offset where a damaged gzip stream stopped decoding.
    public var damagedAt: UInt64?
    /// Epoch milliseconds of the last change.
    public var updatedAt: Int64
    /// Epoch milliseconds since when no scan has listed the file (nor a copy of it) and no stream has read it;
    /// `nil` while it is listed. The entry is forgotten once that lasts `state.forgetMissingFilesAfterSeconds`
    /// (see ``CheckpointTable/sweep(listed:now:forgetAfter:)``).
    public var missingSince: Int64?

    public init(
        fingerprint: String, fingerprintLength: Int, device: UInt64, inode: UInt64, path: String, offset: UInt64,
        size: UInt64, compressed: Bool, finished: Bool = false, damagedAt: UInt64? = nil, updatedAt: Int64,
        key: String? = nil
    ) {
        self.key = key ?? fingerprint
        self.fingerprint = fingerprint
        self.fingerprintLength = fingerprintLength
        self.device = device
        self.inode = inode
        self.path = path
        self.offset = offset
        self.size = size
        self.compressed = compressed
        self.finished = finished
        self.damagedAt = damagedAt
        self.updatedAt = updatedAt
    }
}

// MARK: - On-disk form

extension FileCheckpoint {
    func write(to w: inout JSONWriter) {
        w.raw(UInt8(ascii: "{"))
        w.key("fingerprint", comma: false)
        w.string(fingerprint)
        w.key("fingerprintLength", comma: true)
        w.number(Int64(fingerprintLength))
        w.key("key", comma: true)
        w.string(key)
        w.key("device", comma: true)
        w.string(String(device))
        w.key("inode", comma: true)
        w.string(String(inode))
        w.key("path", comma: true)
        w.string(path)
        w.key("offset", comma: true)
        w.number(Int64(offset))
        w.key("size", comma: true)
        w.number(Int64(size))
        w.key("compressed", comma: true)
        w.raw(compressed ? "true" : "false")
        w.key("finished", comma: true)
        w.raw(finished ? "true" : "false")
        if let damagedAt {
            w.key("damagedAt", comma: true)
            w.number(Int64(damagedAt))
        }
        w.key("updatedAt", comma: true)
        w.number(updatedAt)
        if let missingSince {
            w.key("missingSince", comma: true)
            w.number(missingSince)
        }
        w.raw(UInt8(ascii: "}"))
    }

    init?(json: JSONValue) {
        guard case .object(let o) = json,
            let fingerprint = o["fingerprint"]?.stringValue,
            let fpLength = o["fingerprintLength"]?.numberValue?.int64,
            let device = o["device"]?.stringValue.flatMap({ UInt64($0) }),
            let inode = o["inode"]?.stringValue.flatMap({ UInt64($0) }),
            let path = o["path"]?.stringValue,
            let offset = o["offset"]?.numberValue?.int64, offset >= 0
        else { return nil }
        self.init(
            fingerprint: fingerprint, fingerprintLength: Int(fpLength), device: device, inode: inode, path: path,
            offset: UInt64(offset), size: UInt64(max(0, o["size"]?.numberValue?.int64 ?? 0)),
            compressed: o["compressed"]?.boolValue ?? false, finished: o["finished"]?.boolValue ?? false,
            damagedAt: o["damagedAt"]?.numberValue?.int64.map { UInt64(max(0, $0)) },
            updatedAt: o["updatedAt"]?.numberValue?.int64 ?? 0, key: o["key"]?.stringValue)
        missingSince = o["missingSince"]?.numberValue?.int64
    }
}
