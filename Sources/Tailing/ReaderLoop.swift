import PinnedMemory

/// The one loop around a log file's reader that both `run` and `export` use: it opens the file as its ``FileHead``
/// decided (gzip or not, decided once), frames its lines (``LogFileReader``), takes a container runtime's envelope off
/// them (``ContainerLogDecoder``) when the source says so, and hands its caller ``ReaderLoop/Event``s.
///
/// It knows nothing of checkpoints, ledgers or outputs: the engine keeps its ledger from the events, the export its
/// CSV rows. Everything the two must agree on, what a line is, where it starts and ends, which lines are taken at the
/// end of the input, lives here once. Positions are always the runtime file's (decompressed) offsets.
public final class ReaderLoop {
    /// Whether a file is read as a container runtime's log.
    public enum Envelope: Sendable, Hashable {
        /// A JSON-lines log: lines are the application's.
        case none
        /// Decided by the file's first line (``ContainerFormat/detect(head:)``): `sources[].format` `auto`.
        case detect
        /// Always this runtime's format: `sources[].format` `cri` or `docker`.
        case always(ContainerFormat)
    }

    /// What reading produced, in file order. Line bytes (and `.lines`' array) are valid only during the call.
    public enum Event {
        /// Application lines framed from one read (for a container log: with their envelope off).
        case lines([FramedLine])
        /// A line over the limit or a damaged gzip stream, as the framer reported it (never `.line`).
        case framed(LineEvent)
        /// A partial piece of a container line, kept until the piece that completes it; `first` starts a run (the
        /// caller must not let its position pass the run's start until `.joined` or `.joinedTooLong`).
        case held(ContainerStream, first: Bool, offset: UInt64, end: UInt64)
        /// The run of `stream` completed: its joined line was the last of the `.lines` just before.
        case joined(ContainerStream)
        /// A container line of a stream the source does not read (`sources[].streams`).
        case filtered(offset: UInt64, end: UInt64)
        /// A line that is not an envelope of the file's container format.
        case invalidEnvelope(reason: String, format: ContainerFormat, line: [UInt8], offset: UInt64, end: UInt64)
        /// A container line joined from partial pieces that together exceed the limit; ends its run.
        case joinedTooLong(
            sample: [UInt8], length: UInt64, runStart: UInt64, pieces: Int, stream: ContainerStream, offset: UInt64,
            end: UInt64)
        /// A partial run given up because the file cannot complete it any more.
        case incomplete(IncompleteRun)

        /// The offset just past the input this event accounts for (`nil` for events that end nothing).
        public var end: UInt64? {
            switch self {
            case .lines(let lines): lines.last?.end
            case .framed(let event): event.end
            case .held(_, _, _, let end), .filtered(_, let end), .invalidEnvelope(_, _, _, _, let end),
                .joinedTooLong(_, _, _, _, _, _, let end):
                end
            case .joined, .incomplete: nil
            }
        }
    }

    public let compressed: Bool
    public let maxLineBytes: Int
    /// Takes the envelope off a container log's lines; `nil` for a JSON-lines log.
    public let decoder: ContainerLogDecoder?
    /// The open file, `nil` before ``open(path:startOffset:)`` and after ``close()``. A loop may be reopened at the
    /// end of the last line handed out; a container log's partial runs stay held across that.
    public private(set) var reader: LogFileReader?
    /// Holds the application lines the decoder rebuilt (joined or unescaped) until their chunk ends.
    private let arena: PinnedArena

    /// A loop for the file whose first bytes are `head`: gzip as `head` says, a container log as `envelope` (and, for
    /// ``Envelope/detect``, `head`) says, with the lines of `streams` only. A caller that reads many files one at a
    /// time passes one `arena` to all their loops (its memory is only needed while a chunk is handled); by default
    /// the loop has its own.
    public init(
        head: FileHead, envelope: Envelope, streams: Set<ContainerStream> = Set(ContainerStream.allCases),
        maxLineBytes: Int, arena: PinnedArena? = nil
    ) {
        compressed = head.isCompressed
        self.maxLineBytes = maxLineBytes
        self.arena = arena ?? PinnedArena()
        let format: ContainerFormat?
        switch envelope {
        case .none: format = nil
        case .detect: format = ContainerFormat.detect(head: head.bytes)
        case .always(let f): format = f
        }
        decoder = format.map { ContainerLogDecoder(format: $0, streams: streams, maxLineBytes: maxLineBytes) }
    }

    /// Opens the file at `path` to read from `startOffset` (the end of a line already handed out). `anchor` (a plain
    /// file's fingerprint) makes the reader report a truncation also when the file was refilled past the read
    /// position (see ``LogFileReader``).
    @discardableResult
    public func open(path: String, startOffset: UInt64, anchor: Fingerprint? = nil) throws(TailingError)
        -> LogFileReader
    {
        let opened = try LogFileReader(
            path: path, startOffset: startOffset, maxLineBytes: maxLineBytes, compressed: compressed, anchor: anchor)
        reader = opened
        return opened
    }

    /// Closes the file (the decoder keeps any partial run for when it is reopened).
    public func close() { reader = nil }

    // MARK: - Reading

    /// Reads up to about `budget` bytes of the open file (see ``LogFileReader/read(budget:_:chunkEnd:)``).
    ///
    /// Lines come in `.lines` chunks, one per read at most (fewer when another event must come between two lines);
    /// when a chunk is handed out, the read is done with its bytes, so another thread may read the next block ahead
    /// (``BlockSource/readAhead()``) during the call.
    public func read(budget: Int, _ body: (Event) -> Void) throws(TailingError) -> LogFileReader.Status {
        guard let reader else { return .caughtUp }
        var chunk: [FramedLine] = []
        chunk.reserveCapacity(1024)
        let status = try reader.read(budget: budget) { event in
            if let decoder {
                unwrap(decoder, event, into: &chunk, body)
            } else if case .line(let line) = event {
                chunk.append(line)
            } else {
                flush(&chunk, body)
                body(.framed(event))
            }
        } chunkEnd: {
            flush(&chunk, body)
            arena.reset()
        }
        precondition(chunk.isEmpty, "lines framed outside a chunk")
        return status
    }

    /// Declares the input complete (a catch-up run reached its end, a rotated file is drained, an export read the
    /// file): a damaged gzip end is reported; an unterminated last line is taken for gzip (a finished archive has
    /// no writer) or, in a JSON-lines log, when `takeUnterminated` accepts it (a container runtime always ends its
    /// lines). Partial container runs are given up when the file `canGrow` no more. The file is closed.
    public func finish(canGrow: Bool, takeUnterminated: ([UInt8]) -> Bool, _ body: (Event) -> Void) {
        guard let reader else { return }
        if let decoder {
            var chunk: [FramedLine] = []
            reader.finish(includePartial: compressed) { event in unwrap(decoder, event, into: &chunk, body) }
            flush(&chunk, body)
            arena.reset()
            if !canGrow { giveUpIncomplete(body) }
        } else {
            let partial = compressed ? [] : reader.peekPartial()
            let take = compressed || (!partial.isEmpty && takeUnterminated(partial))
            reader.finish(includePartial: take) { event in
                if case .line(let line) = event { body(.lines([line])) } else { body(.framed(event)) }
            }
        }
        self.reader = nil
    }

    /// Gives up the container runs still waiting for their last piece (the file ended, was rotated away or
    /// truncated): one `.incomplete` each.
    public func giveUpIncomplete(_ body: (Event) -> Void) {
        guard let decoder, decoder.isHolding else { return }
        for run in decoder.takeIncomplete() { body(.incomplete(run)) }
    }

    // MARK: - Container logs

    /// Takes one framed event of a container log: the application's line joins `chunk`; anything else goes out now,
    /// after the chunk so far (callers keep positions in file order).
    private func unwrap(
        _ decoder: ContainerLogDecoder, _ event: LineEvent, into chunk: inout [FramedLine], _ body: (Event) -> Void
    ) {
        switch event {
        case .line(let line):
            let bytes = line.bytes
            let offset = line.offset
            let need = decoder.room(for: bytes.count)
            if !arena.hasRoom(need) {
                flush(&chunk, body)
                arena.reset(minimumCapacity: max(need, 256 * 1024))
            }
            let decoded = decoder.decode(bytes, offset: offset, arena: arena)
            if case .line(let payload, let s, let time, let runStart) = decoded {
                chunk.append(FramedLine(bytes: payload, offset: offset, end: line.end, stream: s, time: time))
                if runStart != nil {
                    // The joined line goes out first; only then may its run let go of its start.
                    flush(&chunk, body)
                    body(.joined(s))
                }
                return
            }
            flush(&chunk, body)
            emit(decoded, decoder, offset: offset, end: line.end, envelope: bytes, body)
        case .tooLong(let sample, let length, let offset, let end):
            flush(&chunk, body)
            if let decoded = decoder.decodeTooLong(sample: sample, length: length, offset: offset) {
                emit(
                    decoded, decoder, offset: offset, end: end, envelope: UnsafeRawBufferPointer(start: nil, count: 0),
                    body)
            } else {
                body(.framed(event))
            }
        case .corrupt:
            flush(&chunk, body)
            body(.framed(event))
        }
    }

    private func emit(
        _ decoded: DecodedLine, _ decoder: ContainerLogDecoder, offset: UInt64, end: UInt64,
        envelope: UnsafeRawBufferPointer, _ body: (Event) -> Void
    ) {
        switch decoded {
        case .line:
            preconditionFailure("lines go through the chunk")
        case .held(let s, let first):
            body(.held(s, first: first, offset: offset, end: end))
        case .filtered:
            body(.filtered(offset: offset, end: end))
        case .invalid(let reason):
            body(
                .invalidEnvelope(
                    reason: reason, format: decoder.format, line: Array(envelope), offset: offset, end: end))
        case .tooLong(let sample, let length, let runStart, let pieces, let s):
            body(
                .joinedTooLong(
                    sample: sample, length: length, runStart: runStart, pieces: pieces, stream: s, offset: offset,
                    end: end))
        }
    }

    private func flush(_ chunk: inout [FramedLine], _ body: (Event) -> Void) {
        guard !chunk.isEmpty else { return }
        body(.lines(chunk))
        chunk.removeAll(keepingCapacity: true)
    }
}
