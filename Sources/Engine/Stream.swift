import AgentConfig
import Checkpoints
import Tailing

/// The ids of the streams that hold an open file (so the open-file cap is kept without looking at every stream).
final class ReaderSet {
    var ids = Set<Int>()
}

/// One file being read: its identity, its reader and its ledger of unresolved lines.
final class Stream {
    let id: Int
    let source: SourceConfig
    /// What ``FileTracker`` decides about: the file's path, identity, and whether it is detached or exhausted.
    var file: FileTracker.File
    var path: String {
        get { file.path }
        set { file.path = newValue }
    }
    var fingerprint: Fingerprint
    /// The file's identity key (see ``FileCheckpoint/key``): what derived event ids hash, fixed for the file's life.
    let key: String
    var compressed: Bool { file.compressed }
    /// The checkpoint-table entry this stream advances.
    var entry: Int
    /// Reads the file's lines (and takes a container runtime's envelope off them): the loop `export` uses too.
    var loop: ReaderLoop
    /// The open file, if any (see ``openReader(from:)`` and ``closeReader()``).
    var reader: LogFileReader? { loop.reader }
    /// The engine's set of streams with an open reader (kept up to date by opening and closing).
    weak var readers: ReaderSet?
    var ledger: LineLedger
    /// See ``FileTracker/File``.
    var exhausted: Bool {
        get { file.exhausted }
        set { file.exhausted = newValue }
    }
    var abandoned: Bool {
        get { file.abandoned }
        set { file.abandoned = newValue }
    }
    var detached: Bool {
        get { file.detached }
        set { file.detached = newValue }
    }
    var lastGrowth: Int64 {
        get { file.lastGrowth }
        set { file.lastGrowth = newValue }
    }
    /// The reader has unread input right now (as far as we know).
    var hasInput = true
    var size: UInt64
    /// Unwraps a container runtime's log (`nil` for a plain JSON-lines file), and the pod it belongs to.
    var decoder: ContainerLogDecoder? { loop.decoder }
    var pod: PodIdentity?
    /// The path inotify names its writes by (``FileStat/writtenPath(of:)``: where its symbolic link leads, if its
    /// path is one); `nil` when unknown (then it is polled).
    var writtenPath: String?
    /// Per container stream: the ledger entry of the first piece of a partial line not yet complete.
    var holds: [UInt64?] = [nil, nil]
    /// Where reading resumes when the reader was closed to respect the open-file cap (the end of the last line
    /// handed out; lines before it are in the ledger already).
    var resumeOffset: UInt64?

    init(
        id: Int, source: SourceConfig, path: String, fingerprint: Fingerprint, key: String, stat: FileStat,
        loop: ReaderLoop, entry: Int, startOffset: UInt64, now: Int64
    ) {
        self.loop = loop
        self.key = key
        self.id = id
        self.source = source
        self.file = FileTracker.File(id: id, path: path, stat: stat, compressed: loop.compressed, now: now)
        self.fingerprint = fingerprint
        self.entry = entry
        self.ledger = LineLedger(startOffset: startOffset)
        self.size = stat.size
    }

    /// Opens the file at its current path to read from `offset` (it counts as open once the engine keeps it,
    /// ``keepReader()``); a plain file is checked against its fingerprint as it is read (a truncation that the
    /// writer refilled past the read position is noticed).
    func openReader(from offset: UInt64) throws(TailingError) -> LogFileReader {
        try loop.open(path: path, startOffset: offset, anchor: compressed ? nil : fingerprint)
    }

    /// Registers the reader just opened as kept (for the open-file cap).
    func keepReader() { readers?.ids.insert(id) }

    func closeReader() {
        loop.close()
        readers?.ids.remove(id)
    }

    /// Settled and with nothing more to read: its checkpoint entry may be released.
    var isDone: Bool { file.isFinished && ledger.isSettled && reader == nil }
}
