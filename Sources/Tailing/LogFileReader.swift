import Gzip
import SystemIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads lines from one log file, plain or gzip (as ``FileHead`` decided, or detected by its magic bytes), from a
/// given offset.
///
/// Offsets are positions in the *decompressed* stream, so a checkpoint inside a `.gz` means the same thing as one in
/// a plain file, and a rotated file that was compressed afterwards can be matched with what was read of it before.
/// Resuming a `.gz` decompresses from the start and discards up to the offset: gzip has no random access.
public final class LogFileReader {
    public enum Status: Sendable, Equatable {
        /// The read budget ran out; more input is available now.
        case more
        /// Everything complete has been read; the file may still grow.
        case caughtUp
        /// A gzip stream ended (or is damaged): nothing more will come from this file.
        case finished
        /// A plain file is now shorter than what was read, or no longer begins as it did (its `anchor`): it was
        /// truncated (or copied and truncated), and perhaps written again.
        case truncated
    }

    public let path: String
    public var isCompressed: Bool { blocks.isCompressed }
    public var descriptor: Int32 { blocks.descriptor }
    /// The identity of the open file (it keeps it even after the path is renamed or deleted).
    public let openedStat: FileStat
    /// Reads the file's blocks; the mapping worker reads the next one ahead through it (``BlockSource/readAhead()``).
    public let blocks: BlockSource

    private var framer: LineFramer
    /// Decompressed bytes still to discard before `startOffset` (gzip resume).
    private var skipRemaining: UInt64 = 0

    /// Offset just past the last complete line handed out.
    public var offset: UInt64 { framer.offset }
    /// Bytes read but not yet part of a complete line.
    public var pendingCount: Int { framer.pendingCount }
    /// In the middle of an over-long line: `offset` is inside that line, so the reader must not be reopened there.
    public var isSkipping: Bool { framer.isSkipping }
    /// Bytes of the file (compressed, for gzip) read so far.
    public var bytesConsumed: UInt64 { blocks.position }

    /// Opens `path` to read lines from `startOffset`. `compressed` is the caller's decision (``FileHead/isCompressed``,
    /// made when the file was found); `nil` looks at the file's magic bytes now. `anchor`, for a plain file, is the
    /// fingerprint it was identified by: a file that no longer begins with it was truncated (and perhaps written again
    /// past the read position), and is reported `.truncated` before anything of the new content is handed out.
    public init(
        path: String, startOffset: UInt64, maxLineBytes: Int, readSize: Int = 256 * 1024, compressed: Bool? = nil,
        anchor: Fingerprint? = nil
    ) throws(TailingError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(path, "open it") }
        guard let st = FileStat.of(descriptor: fd) else {
            let error = TailingError.system(path, "examine it")
            close(fd)
            throw error
        }
        openedStat = st
        let gzip: Bool
        if let compressed {
            gzip = compressed
        } else {
            var magic: [UInt8] = [0, 0]
            let n = magic.withUnsafeMutableBytes { POSIXIO.read(fd, into: $0, at: 0) }
            gzip = n == 2 && GzipFormat.hasGzipMagic(magic)
        }
        framer = LineFramer(startOffset: startOffset, maxLineBytes: maxLineBytes)
        if gzip {
            // Small compressed reads bound what one inflate call can produce (deflate expands up to ~1000x).
            blocks = BlockSource(descriptor: fd, compressed: true, readSize: min(readSize, 32 * 1024), position: 0)
            skipRemaining = startOffset
        } else {
            blocks = BlockSource(
                descriptor: fd, compressed: false, readSize: readSize, position: startOffset, anchor: anchor)
        }
    }

    /// Reads up to about `budget` bytes of the file and emits the complete lines found.
    ///
    /// `chunkEnd` is called after each series of events framed from one read: the bytes of the series' `.line` events
    /// stay valid until then (see ``LineFramer/frame(_:chunkEnd:)``). Events emitted outside a series (a damaged
    /// gzip stream's `.corrupt`) come after a `chunkEnd`. Inside `chunkEnd`, another thread may read the next block
    /// ahead (``BlockSource/readAhead()``): the lines' bytes are the framer's, which reading does not touch.
    public func read(
        budget: Int, _ body: (LineEvent) -> Void, chunkEnd: () -> Void = {}
    ) throws(TailingError) -> Status {
        if blocks.isDone { return .finished }
        var spent = 0
        while spent < budget {
            switch blocks.next({ bytes in if isCompressed { feedInflated(bytes) } else { framer.append(bytes) } }) {
            case .failed:
                throw .system(path, "read it")
            case .truncated:
                return .truncated
            case .end(let finished):
                if finished {
                    // A finished archive has no writer: an unterminated last line is complete.
                    framer.frame(body, chunkEnd: chunkEnd, final: true)
                    releaseBuffers()
                    return .finished
                }
                releaseBuffers()
                return .caughtUp
            case .data(let read, let failure):
                spent += read
                framer.frame(body, chunkEnd: chunkEnd)
                if let failure {
                    fail(failure, body)
                    return .finished
                }
            }
        }
        return .more
    }

    /// Drops the buffers an idle reader does not need (the framer keeps only an unterminated rest).
    private func releaseBuffers() {
        guard blocks.releaseBuffers() else { return }
        framer.releaseIfEmpty()
    }

    /// Frames inflated bytes, after discarding what comes before the start offset.
    private func feedInflated(_ inflated: UnsafeRawBufferPointer) {
        guard !inflated.isEmpty else { return }
        if skipRemaining > 0 {
            let drop = Int(min(skipRemaining, UInt64(inflated.count)))
            skipRemaining -= UInt64(drop)
            if drop == inflated.count { return }
            framer.append(UnsafeRawBufferPointer(rebasing: inflated[drop...]))
        } else {
            framer.append(inflated)
        }
    }

    private func fail(_ error: GzipError, _ body: (LineEvent) -> Void) {
        blocks.markDone()
        let at = framer.offset
        body(.corrupt(message: error.description, offset: at, compressedOffset: error.compressedOffset))
    }

    /// Declares the end of the input (a catch-up run reached it, or a rotated file is drained): a gzip stream that
    /// stopped inside a member is reported as truncated, and an unterminated last line is handed out when
    /// `includePartial` says so.
    public func finish(includePartial: Bool, _ body: (LineEvent) -> Void) {
        if isCompressed, let error = blocks.finishInflating() {
            if skipRemaining == 0 { framer.takePartial(body) }
            fail(error, body)
            return
        }
        if includePartial { framer.takePartial(body) }
        if isCompressed { blocks.markDone() }
    }

    /// The unterminated bytes at the end of what was read, without consuming them.
    public func peekPartial() -> [UInt8] { framer.peekPartial() }

    /// The size of the open file now (compressed size for gzip).
    public func currentSize() -> UInt64? { FileStat.of(descriptor: descriptor)?.size }
}
