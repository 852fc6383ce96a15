#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A complete line as it goes from the framer to the mapper: the one form of a line on the way (a container log's
/// application line, once its envelope is off, is one too).
///
/// `bytes` is borrowed, from the framer's buffer or the container decoder's arena: it is valid until the end of the
/// chunk it came in (see ``LineFramer/frame(_:chunkEnd:final:)``), which lets the reader hand out lines without
/// copying them.
public struct FramedLine {
    /// The line without its `\n` (a trailing `\r` is kept; JSON treats it as whitespace).
    public var bytes: UnsafeRawBufferPointer
    /// Where the line starts in the stream, and the offset just past it (a checkpoint may move there once the line
    /// is resolved). For a container log line, the envelope line that completes it.
    public var offset: UInt64
    public var end: UInt64
    /// For a container log line: the stream it was written to and the runtime's time (nil otherwise).
    public var stream: ContainerStream?
    public var time: UnsafeRawBufferPointer?

    @inlinable
    public init(
        bytes: UnsafeRawBufferPointer, offset: UInt64, end: UInt64, stream: ContainerStream? = nil,
        time: UnsafeRawBufferPointer? = nil
    ) {
        self.bytes = bytes
        self.offset = offset
        self.end = end
        self.stream = stream
        self.time = time
    }
}

/// One framed line, or the reason a stretch of the stream is not one.
public enum LineEvent {
    /// A complete line; its bytes are valid only until the end of its chunk.
    case line(FramedLine)
    /// A line longer than the limit: skipped, with its first bytes kept for the dead-letter file.
    case tooLong(sample: [UInt8], length: UInt64, offset: UInt64, end: UInt64)
    /// The stream is damaged at `offset` (decompressed) and cannot be read past it.
    case corrupt(message: String, offset: UInt64, compressedOffset: UInt64)

    /// The stream offset just past this event; a checkpoint may move there once the event is resolved.
    public var end: UInt64 {
        switch self {
        case .line(let line): line.end
        case .tooLong(_, _, _, let end): end
        case .corrupt(_, let offset, _): offset
        }
    }

    public var offset: UInt64 {
        switch self {
        case .line(let line): line.offset
        case .tooLong(_, _, let offset, _), .corrupt(_, let offset, _): offset
        }
    }
}

/// Splits a byte stream into lines, holding back an incomplete last line and skipping over-long ones.
///
/// Memory stays bounded by `maxLineBytes` plus one read: an over-long line is never accumulated, only counted.
public struct LineFramer {
    public let maxLineBytes: Int
    public static let sampleBytes = 1024

    private var buffer: [UInt8] = []
    private var head = 0
    /// Stream offset of `buffer[head]`.
    public private(set) var offset: UInt64
    /// While skipping an over-long line: where it started, its first bytes and how long it is so far.
    private var skipping: (start: UInt64, sample: [UInt8])?

    public init(startOffset: UInt64, maxLineBytes: Int) {
        self.offset = startOffset
        self.maxLineBytes = maxLineBytes
    }

    /// Bytes held that do not yet end in a newline.
    public var pendingCount: Int { buffer.count - head }
    public var isSkipping: Bool { skipping != nil }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if head > 0, head >= buffer.count / 2 {
            buffer.removeSubrange(0..<head)
            head = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Emits every complete line now in the buffer. Returns the number of events emitted.
    ///
    /// The bytes of a `.line` event point into the framer's buffer and stay valid until `chunkEnd` is called (once,
    /// after the last event of this call and before the buffer can change), so a caller may collect a chunk of lines
    /// and work on them together there.
    ///
    /// With `final` the input has ended for good (a finished gzip archive has no writer): an unterminated rest is a
    /// complete last line, emitted in the same series (as `.tooLong` when over the limit).
    @discardableResult
    public mutating func frame(_ body: (LineEvent) -> Void, chunkEnd: () -> Void = {}, final: Bool = false) -> Int {
        var emitted = 0
        var tookRest = false
        buffer.withUnsafeBytes { raw in
            defer { chunkEnd() }
            guard let base = raw.baseAddress else { return }  // nil for an empty array that never had storage
            while head < raw.count {
                let remaining = raw.count - head
                guard let hit = memchr(base + head, 0x0A, remaining) else { break }
                let length = base.distance(to: UnsafeRawPointer(hit)) - head
                let lineEnd = offset + UInt64(length) + 1
                if var skip = skipping {
                    skip.sample.topUp(from: UnsafeRawBufferPointer(start: base + head, count: length))
                    body(
                        .tooLong(
                            sample: skip.sample, length: lineEnd - 1 - skip.start, offset: skip.start, end: lineEnd))
                    skipping = nil
                } else if length > maxLineBytes {
                    let sample = Array(UnsafeRawBufferPointer(start: base + head, count: min(length, Self.sampleBytes)))
                    body(.tooLong(sample: sample, length: UInt64(length), offset: offset, end: lineEnd))
                } else {
                    body(
                        .line(
                            FramedLine(
                                bytes: UnsafeRawBufferPointer(start: base + head, count: length), offset: offset,
                                end: lineEnd)))
                }
                emitted += 1
                head += length + 1
                offset = lineEnd
            }
            if final, skipping != nil || head < raw.count {
                emitRest(raw, body)
                emitted += 1
                tookRest = true
            }
        }
        if tookRest {
            buffer.removeAll(keepingCapacity: true)
            head = 0
            return emitted
        }
        // An unterminated stretch longer than the limit: stop buffering it, remember where it began.
        let pending = buffer.count - head
        if pending > maxLineBytes || (skipping != nil && pending > 0) {
            if skipping == nil {
                skipping = (offset, Array(buffer[head..<(head + min(pending, Self.sampleBytes))]))
            } else if skipping!.sample.count < Self.sampleBytes {
                // The line began in an earlier append (a limit below `sampleBytes`): keep filling its sample.
                buffer.withUnsafeBytes { skipping!.sample.topUp(from: UnsafeRawBufferPointer(rebasing: $0[head...])) }
            }
            offset += UInt64(pending)
            buffer.removeAll(keepingCapacity: true)
            head = 0
        }
        return emitted
    }

    /// Hands out the unterminated rest as a final line (catch-up runs, at the end of a finished file).
    public mutating func takePartial(_ body: (LineEvent) -> Void) {
        buffer.withUnsafeBytes { raw in
            if skipping != nil || head < raw.count { emitRest(raw, body) }
        }
        buffer.removeAll(keepingCapacity: true)
        head = 0
    }

    /// Emits the unterminated rest of `raw` (the buffer) as one last line, or as `.tooLong` past the limit.
    private mutating func emitRest(_ raw: UnsafeRawBufferPointer, _ body: (LineEvent) -> Void) {
        let length = raw.count - head
        if var skip = skipping {
            skip.sample.topUp(from: UnsafeRawBufferPointer(rebasing: raw[head...]))
            let end = offset + UInt64(length)
            body(.tooLong(sample: skip.sample, length: end - skip.start, offset: skip.start, end: end))
            skipping = nil
            offset = end
        } else if length > maxLineBytes {
            let sample = Array(raw[head..<(head + min(length, Self.sampleBytes))])
            body(.tooLong(sample: sample, length: UInt64(length), offset: offset, end: offset + UInt64(length)))
            offset += UInt64(length)
        } else {
            body(
                .line(
                    FramedLine(
                        bytes: UnsafeRawBufferPointer(rebasing: raw[head...]), offset: offset,
                        end: offset + UInt64(length))))
            offset += UInt64(length)
        }
        head = raw.count
    }

    /// Lets go of the buffer's storage when it holds nothing (an idle follower keeps no read-sized buffer).
    public mutating func releaseIfEmpty() {
        guard head >= buffer.count else { return }
        buffer = []
        head = 0
    }

    /// The unterminated rest, without consuming it.
    public func peekPartial() -> [UInt8] {
        Array(buffer[head...])
    }
}

extension [UInt8] {
    /// Appends the first bytes of `more` until the sample holds `LineFramer.sampleBytes`.
    fileprivate mutating func topUp(from more: UnsafeRawBufferPointer) {
        let room = LineFramer.sampleBytes - count
        if room > 0 { append(contentsOf: more.prefix(room)) }
    }
}
