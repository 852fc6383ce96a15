import PinnedMemory

/// The log format a container runtime writes, around each line the application printed.
public enum ContainerFormat: String, Sendable, CaseIterable {
    /// containerd, CRI-O: `<RFC 3339 time> <stdout|stderr> <P|F> <content>`.
    case cri
    /// Docker's json-file driver: `{"log":"<content, escaped>\n","stream":"stdout","time":"<RFC 3339>"}`.
    case docker

    /// The format a file's first bytes show, `nil` for anything else (a plain JSON-lines log).
    public static func detect(head: some Collection<UInt8>) -> ContainerFormat? {
        let bytes = Array(head)
        let line = bytes.prefix { $0 != 0x0A }
        if line.first == UInt8(ascii: "{") {
            // A whole first line must be an envelope; a cut one (a longer line) must at least start like Docker's.
            guard line.count < bytes.count else {
                return line.starts(with: Array("{\"log\":\"".utf8)) ? .docker : nil
            }
            return line.withUnsafeBytes { raw in
                if case .success = DockerEnvelope.parse(raw) { return .docker }
                return nil
            }
        }
        return line.withUnsafeBytes { raw in
            if case .header = CRIHeader.parse(raw) { return .cri }
            return nil
        }
    }
}

/// `stdout` or `stderr`: the stream a container line was written to.
public enum ContainerStream: UInt8, Sendable, CaseIterable {
    case stdout = 1
    case stderr = 2

    public var name: String { self == .stdout ? "stdout" : "stderr" }
}

/// What one line of a container log holds once its runtime envelope is taken off.
public enum DecodedLine {
    /// The application's line. `payload` and `time` stay valid until the arena is reset and the framer's chunk ends.
    /// `runStart` is the offset of the first piece when the line was joined from partial pieces.
    case line(payload: UnsafeRawBufferPointer, stream: ContainerStream, time: UnsafeRawBufferPointer, runStart: UInt64?)
    /// A partial piece kept until the piece that completes its line; `first` when it starts a new run (the
    /// checkpoint must not pass its start until the whole line is resolved).
    case held(stream: ContainerStream, first: Bool)
    /// A line of a stream the source does not read.
    case filtered
    /// Not an envelope of this format.
    case invalid(reason: String)
    /// A line joined from pieces that together exceed the limit: its first bytes and whole length.
    case tooLong(sample: [UInt8], length: UInt64, runStart: UInt64, pieces: Int, stream: ContainerStream)
}

/// A partial run that cannot be completed any more (its file ended, was rotated away or truncated).
public struct IncompleteRun: Sendable {
    public var stream: ContainerStream
    /// Offset of its first piece.
    public var start: UInt64
    public var pieces: Int
    /// The joined content so far, or its first bytes when it grew past the limit.
    public var content: [UInt8]
    public var length: UInt64
    public var truncated: Bool
}

/// Takes the runtime's envelope off container log lines (``ContainerFormat``), and joins the partial pieces a
/// runtime splits long lines into (CRI `P` pieces up to the `F` one, Docker `log` values without a trailing newline),
/// separately for stdout and stderr, since both are interleaved in one file.
///
/// One decoder belongs to one file and sees its lines in order. The joined line obeys `maxLineBytes`; memory stays
/// bounded by it per stream.
public final class ContainerLogDecoder {
    public let format: ContainerFormat
    public let maxLineBytes: Int
    private let accepts: (stdout: Bool, stderr: Bool)
    private var runs: [Run?] = [nil, nil]
    private var unescaped: [UInt8] = []

    struct Run {
        var start: UInt64
        var pieces = 0
        var content: [UInt8] = []
        var length: UInt64 = 0
        var overflow = false
        var time: [UInt8]
    }

    public init(
        format: ContainerFormat, streams: Set<ContainerStream> = Set(ContainerStream.allCases), maxLineBytes: Int
    ) {
        self.format = format
        self.maxLineBytes = maxLineBytes
        accepts = (streams.contains(.stdout), streams.contains(.stderr))
    }

    /// Whether a partial run is waiting for its last piece.
    public var isHolding: Bool { runs[0] != nil || runs[1] != nil }

    /// Arena bytes ``decode(_:offset:arena:)`` may need for a line of `count` bytes.
    public func room(for count: Int) -> Int {
        let held = runs.reduce(0) { $0 + ($1.map { $0.overflow ? 0 : $0.content.count + $0.time.count } ?? 0) }
        return count + held + 64
    }

    private func accepts(_ stream: ContainerStream) -> Bool { stream == .stdout ? accepts.stdout : accepts.stderr }

    /// Decodes one complete envelope line starting at `offset`; the arena needs ``room(for:)`` free bytes.
    public func decode(_ line: UnsafeRawBufferPointer, offset: UInt64, arena: PinnedArena) -> DecodedLine {
        switch format {
        case .cri:
            switch CRIHeader.parse(line) {
            case .invalid(let reason): return .invalid(reason: reason)
            case .header(let h):
                let content = UnsafeRawBufferPointer(rebasing: line[h.contentStart...])
                let time = UnsafeRawBufferPointer(rebasing: line[0..<h.timeEnd])
                return piece(content, stream: h.stream, partial: h.partial, time: time, offset: offset, arena: arena)
            }
        case .docker:
            let envelope: DockerEnvelope
            switch DockerEnvelope.parse(line) {
            case .failure(let problem): return .invalid(reason: problem.reason)
            case .success(let e): envelope = e
            }
            guard accepts(envelope.stream) else { return .filtered }
            unescaped.removeAll(keepingCapacity: true)
            guard DockerEnvelope.unescape(UnsafeRawBufferPointer(rebasing: line[envelope.log]), into: &unescaped) else {
                return .invalid(reason: "the \"log\" string has an invalid escape")
            }
            var partial = true
            if unescaped.last == 0x0A {
                unescaped.removeLast()
                partial = false
            }
            let time = UnsafeRawBufferPointer(rebasing: line[envelope.time])
            return unescaped.withUnsafeBytes { content in
                piece(
                    content, stream: envelope.stream, partial: partial, time: time, offset: offset, arena: arena,
                    copy: true)
            }
        }
    }

    /// A line longer than `maxLineBytes` that the framer skipped (only `sample` kept): a CRI piece of a run marks
    /// the run as too long (`.held`, or `.tooLong` for its last piece); `nil` when it stands alone.
    public func decodeTooLong(sample: [UInt8], length: UInt64, offset: UInt64) -> DecodedLine? {
        guard format == .cri else { return nil }
        return sample.withUnsafeBytes { raw -> DecodedLine? in
            guard case .header(let h) = CRIHeader.parse(raw) else { return nil }
            guard accepts(h.stream) else { return .filtered }
            let contentLength = length - UInt64(min(h.contentStart, raw.count))
            let index = Int(h.stream.rawValue) - 1
            if runs[index] == nil {
                guard h.partial else { return nil }
                runs[index] = Run(start: offset, time: Array(raw[0..<h.timeEnd]))
            }
            var run = runs[index]!
            let firstPiece = run.pieces == 0
            run.pieces += 1
            run.length += contentLength
            if !run.overflow { run.content.append(contentsOf: raw[min(h.contentStart, raw.count)...].prefix(1024)) }
            overflow(&run)
            if h.partial {
                runs[index] = run
                return .held(stream: h.stream, first: firstPiece)
            }
            runs[index] = nil
            return .tooLong(
                sample: Array(run.content.prefix(1024)), length: run.length, runStart: run.start,
                pieces: run.pieces, stream: h.stream)
        }
    }

    /// The runs still waiting for their last piece, given up (the file will not grow any more).
    public func takeIncomplete() -> [IncompleteRun] {
        var out: [IncompleteRun] = []
        for stream in ContainerStream.allCases {
            guard let run = runs[Int(stream.rawValue) - 1] else { continue }
            out.append(
                IncompleteRun(
                    stream: stream, start: run.start, pieces: run.pieces, content: run.content, length: run.length,
                    truncated: run.overflow))
        }
        runs = [nil, nil]
        return out
    }

    // MARK: - Joining

    private func piece(
        _ content: UnsafeRawBufferPointer, stream: ContainerStream, partial: Bool, time: UnsafeRawBufferPointer,
        offset: UInt64, arena: PinnedArena, copy: Bool = false
    ) -> DecodedLine {
        guard accepts(stream) else { return .filtered }
        let index = Int(stream.rawValue) - 1
        guard var run = runs[index] else {
            if partial {
                var run = Run(start: offset, time: Array(time))
                add(content, to: &run)
                runs[index] = run
                return .held(stream: stream, first: true)
            }
            let payload = copy ? arena.copy(content) : content
            return .line(payload: payload, stream: stream, time: time, runStart: nil)
        }
        add(content, to: &run)
        if partial {
            runs[index] = run
            return .held(stream: stream, first: false)
        }
        runs[index] = nil
        if run.overflow {
            return .tooLong(
                sample: Array(run.content.prefix(1024)), length: run.length, runStart: run.start,
                pieces: run.pieces, stream: stream)
        }
        let (payload, firstTime) = run.content.withUnsafeBytes { joined in
            run.time.withUnsafeBytes { (arena.copy(joined), arena.copy($0)) }
        }
        return .line(payload: payload, stream: stream, time: firstTime, runStart: run.start)
    }

    private func add(_ content: UnsafeRawBufferPointer, to run: inout Run) {
        run.pieces += 1
        run.length += UInt64(content.count)
        if !run.overflow {
            run.content.append(contentsOf: run.length > UInt64(maxLineBytes) ? content.prefix(1024) : content[...])
            overflow(&run)
        }
    }

    /// Past the limit: keep the first bytes for the dead letter, stop storing.
    private func overflow(_ run: inout Run) {
        guard run.length > UInt64(maxLineBytes) else { return }
        run.overflow = true
        if run.content.count > 1024 { run.content.removeSubrange(1024...) }
    }
}

/// The fields before a CRI line's content.
struct CRIHeader {
    var timeEnd: Int
    var stream: ContainerStream
    var partial: Bool
    var contentStart: Int

    enum Parsed {
        case header(CRIHeader)
        case invalid(String)
    }

    static func parse(_ line: UnsafeRawBufferPointer) -> Parsed {
        let n = line.count
        var i = 0
        while i < n, line[i] != 0x20 { i += 1 }
        guard i < n, i >= 10, i <= 64, line[0] >= 0x30, line[0] <= 0x39, line[4] == UInt8(ascii: "-") else {
            return .invalid("not a CRI log line: it must start with an RFC 3339 time and a space")
        }
        let timeEnd = i
        i += 1
        let stream: ContainerStream
        if n - i >= 7, line[i + 6] == 0x20, memeq(line, i, "stdout") {
            stream = .stdout
        } else if n - i >= 7, line[i + 6] == 0x20, memeq(line, i, "stderr") {
            stream = .stderr
        } else {
            return .invalid("not a CRI log line: the stream after the time must be stdout or stderr")
        }
        i += 7
        guard i < n, line[i] == UInt8(ascii: "P") || line[i] == UInt8(ascii: "F"),
            i + 1 == n || line[i + 1] == 0x20 || line[i + 1] == UInt8(ascii: ":")
        else {
            return .invalid("not a CRI log line: the tag after the stream must be P or F")
        }
        let partial = line[i] == UInt8(ascii: "P")
        while i < n, line[i] != 0x20 { i += 1 }  // further tags (`F:x`) are ignored
        return .header(CRIHeader(timeEnd: timeEnd, stream: stream, partial: partial, contentStart: min(i + 1, n)))
    }

    private static func memeq(_ line: UnsafeRawBufferPointer, _ at: Int, _ word: StaticString) -> Bool {
        let w = UnsafeRawBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for k in 0..<w.count where line[at + k] != w[k] { return false }
        return true
    }
}
