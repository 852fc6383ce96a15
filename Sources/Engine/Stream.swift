import AgentConfig
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
    /// The file's identity key (see ``FileCheckpoint/key``): what derived event ids hash, fixed for the file's life.
    let key: String
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

    init(id: Int, source: SourceConfig, path: String, fingerprint: Fingerprint, key: String, stat: FileStat,
         compressed: Bool, entry: Int, startOffset: UInt64, now: Int64)
    {
        self.key = key
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
