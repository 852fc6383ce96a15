import Checkpoints
import Tailing

/// One file being read: its identity, its reader and its ledger of unresolved lines.
/// The ids of the streams that hold an open file (so the open-file cap is kept without looking at every stream).
final class ReaderSet {
    var ids = Set<Int>()
}

final class Stream {
    let id: Int
    let source: SourceConfig
    var path: String
    var fingerprint: Fingerprint
    var device: UInt64
    var inode: UInt64
    var compressed: Bool
    /// The checkpoint-table entry this stream advances.
    var entry: Int
    var reader: LogFileReader? {
        didSet {
            if reader == nil { readers?.ids.remove(id) } else if oldValue == nil { readers?.ids.insert(id) }
        }
    }
    /// The engine's set of streams with an open reader (kept up to date by `reader`).
    weak var readers: ReaderSet?
    var ledger: LineLedger
    /// Nothing more will be read: the reader reached the end of a gzip stream, damage, or a drained rotated file.
    var exhausted = false
    /// A catch-up run gave up on it (it could not be read): not finished, whatever else it looks like.
    var abandoned = false
    /// The path no longer leads to this file (renamed away, deleted, truncated): read what is left, then retire.
    var detached = false
    /// Monotonic milliseconds of the last time the file gave new bytes.
    var lastGrowth: Int64
    /// The reader has unread input right now (as far as we know).
    var hasInput = true
    /// The reader consumed everything available last time it ran.
    var caughtUp = false
    var size: UInt64
    /// Unwraps a container runtime's log (`nil` for a plain JSON-lines file), and the pod it belongs to.
    var decoder: ContainerLogDecoder?
    var pod: PodIdentity?
    /// Per container stream: the ledger entry of the first piece of a partial line not yet complete.
    var holds: [UInt64?] = [nil, nil]
    /// Where reading resumes when the reader was closed to respect the open-file cap (the end of the last line
    /// handed out; lines before it are in the ledger already).
    var resumeOffset: UInt64?

    init(id: Int, source: SourceConfig, path: String, fingerprint: Fingerprint, stat: FileStat, compressed: Bool,
         entry: Int, startOffset: UInt64, now: Int64)
    {
        self.id = id
        self.source = source
        self.path = path
        self.fingerprint = fingerprint
        self.device = stat.device
        self.inode = stat.inode
        self.compressed = compressed
        self.entry = entry
        self.ledger = LineLedger(startOffset: startOffset)
        self.lastGrowth = now
        self.size = stat.size
    }

    /// Settled and with nothing more to read: its checkpoint entry may be released.
    var isDone: Bool { (exhausted || detached) && ledger.isSettled && reader == nil }
}

/// The in-memory checkpoint table: every file ever seen (until pruned), with at most one live stream attached.
///
/// Indexed by fingerprint length and hash, so that matching a new file costs one hash per distinct fingerprint
/// length, not one per known file.
struct CheckpointTable {
    private(set) var entries: [Int: FileCheckpoint] = [:]
    var attached: [Int: Int] = [:]  // entry -> stream id
    private var index: [Int: [String: Set<Int>]] = [:]  // fingerprint length -> hash -> entries
    private var nextId = 0
    var dirty = false

    init(_ checkpoints: [FileCheckpoint]) {
        for c in checkpoints { insert(c) }
        dirty = false
    }

    @discardableResult
    mutating func insert(_ c: FileCheckpoint) -> Int {
        let id = nextId
        nextId += 1
        entries[id] = c
        index[c.fingerprintLength, default: [:]][c.fingerprint, default: []].insert(id)
        dirty = true
        return id
    }

    mutating func update(_ id: Int, _ body: (inout FileCheckpoint) -> Void) {
        guard var c = entries[id] else { return }
        let old = (c.fingerprintLength, c.fingerprint)
        body(&c)
        if old != (c.fingerprintLength, c.fingerprint) {
            index[old.0]?[old.1]?.remove(id)
            index[c.fingerprintLength, default: [:]][c.fingerprint, default: []].insert(id)
        }
        entries[id] = c
        dirty = true
    }

    mutating func remove(_ id: Int) {
        guard let c = entries.removeValue(forKey: id) else { return }
        index[c.fingerprintLength]?[c.fingerprint]?.remove(id)
        attached[id] = nil
        dirty = true
    }

    var all: [FileCheckpoint] { entries.sorted { $0.key < $1.key }.map(\.value) }

    /// Finds the entry a newly seen file continues, by identity (device+inode with a consistent prefix) or by
    /// content (the same first bytes: a renamed, copied or compressed rotation of a file read before).
    func match(head: [UInt8], fingerprint: Fingerprint, stat: FileStat) -> Match {
        var contentMatch: Int?
        for (length, byHash) in index where length <= head.count {
            let hash = length == fingerprint.length ? fingerprint.hash : Fingerprint.of(head.prefix(length)).hash
            guard let ids = byHash[hash] else { continue }
            for id in ids.sorted() {
                guard let c = entries[id] else { continue }
                if attached[id] != nil {
                    // A live stream owns it. An exact, complete fingerprint means this file is a copy of that one.
                    if length >= Fingerprint.fullLength && hash == fingerprint.hash { return .copyOfLive(id) }
                    continue
                }
                if c.device == stat.device && c.inode == stat.inode { return .resume(id) }
                if contentMatch == nil || entries[contentMatch!]!.fingerprintLength < length { contentMatch = id }
            }
        }
        if let contentMatch { return .resume(contentMatch) }
        return .new
    }

    enum Match: Equatable {
        case resume(Int)
        case copyOfLive(Int)
        case new
    }
}
