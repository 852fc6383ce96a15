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
        /// A plain file is now shorter than what was read: it was truncated (or copied and truncated).
        case truncated
    }

    public let path: String
    public let isCompressed: Bool
    public let descriptor: Int32
    /// The identity of the open file (it keeps it even after the path is renamed or deleted).
    public let openedStat: FileStat

    private var framer: LineFramer
    private var inflater: GzipInflater?
    /// Compressed (file) position of the next read.
    private var filePosition: UInt64 = 0
    /// Decompressed bytes still to discard before `startOffset` (gzip resume).
    private var skipRemaining: UInt64 = 0
    /// Allocated when a read starts, sized to what the file has to give (up to `readSize`), and released when the
    /// reader catches up: an idle follower holds no read buffer, so memory does not grow with the files followed.
    private var readBuffer: [UInt8] = []
    private let readSize: Int
    private var inflated: [UInt8] = []
    private var done = false
    /// A block read (and inflated) ahead by ``prefetch()``, not yet framed: its byte count and inflate error.
    private var ahead: (count: Int, error: GzipError?)?

    /// Offset just past the last complete line handed out.
    public var offset: UInt64 { framer.offset }
    /// Bytes read but not yet part of a complete line.
    public var pendingCount: Int { framer.pendingCount }
    /// In the middle of an over-long line: `offset` is inside that line, so the reader must not be reopened there.
    public var isSkipping: Bool { framer.isSkipping }
    /// Bytes of the file (compressed, for gzip) read so far.
    public var bytesConsumed: UInt64 { filePosition }

    /// Opens `path` to read lines from `startOffset`. `compressed` is the caller's decision (``FileHead/isCompressed``,
    /// made when the file was found); `nil` looks at the file's magic bytes now.
    public init(
        path: String, startOffset: UInt64, maxLineBytes: Int, readSize: Int = 256 * 1024, compressed: Bool? = nil
    ) throws(TailingError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(path, "open it") }
        guard let st = FileStat.of(descriptor: fd) else {
            let error = TailingError.system(path, "examine it")
            close(fd)
            throw error
        }
        descriptor = fd
        openedStat = st
        if let compressed {
            isCompressed = compressed
        } else {
            var magic: [UInt8] = [0, 0]
            let n = magic.withUnsafeMutableBytes { POSIXIO.read(fd, into: $0, at: 0) }
            isCompressed = n == 2 && GzipFormat.hasGzipMagic(magic)
        }
        if isCompressed {
            // Small compressed reads bound what one inflate call can produce (deflate expands up to ~1000x).
            self.readSize = min(readSize, 32 * 1024)
            inflater = GzipInflater()
            skipRemaining = startOffset
            framer = LineFramer(startOffset: startOffset, maxLineBytes: maxLineBytes)
        } else {
            self.readSize = readSize
            filePosition = startOffset
            framer = LineFramer(startOffset: startOffset, maxLineBytes: maxLineBytes)
        }
    }

    deinit {
        close(descriptor)
    }

    /// Reads up to about `budget` bytes of the file and emits the complete lines found.
    ///
    /// `chunkEnd` is called after each series of events framed from one read: the bytes of the series' `.line` events
    /// stay valid until then (see ``LineFramer/frame(_:chunkEnd:)``). Events emitted outside a series (a damaged
    /// gzip stream's `.corrupt`) come after a `chunkEnd`.
    public func read(
        budget: Int, _ body: (LineEvent) -> Void, chunkEnd: () -> Void = {}
    ) throws(TailingError) -> Status {
        if done { return .finished }
        var spent = 0
        while spent < budget {
            let n: Int
            let prefetched = ahead
            ahead = nil
            if readBuffer.isEmpty { allocateReadBuffer() }
            if let prefetched {
                n = prefetched.count
            } else {
                n = readBuffer.withUnsafeMutableBytes { POSIXIO.read(descriptor, into: $0, at: Int64(filePosition)) }
            }
            if n < 0 { throw .system(path, "read it") }
            if n == 0 {
                if !isCompressed, let st = FileStat.of(descriptor: descriptor), st.size < filePosition {
                    return .truncated
                }
                if let inflater, inflater.isAtMemberBoundary, inflater.membersCompleted > 0 {
                    done = true  // before framing: nothing may be read ahead now
                    // A finished archive has no writer: an unterminated last line is complete.
                    framer.frame(body, chunkEnd: chunkEnd, final: true)
                    releaseBuffers()
                    return .finished
                }
                releaseBuffers()
                return .caughtUp
            }
            filePosition += UInt64(n)
            spent += n
            if let inflater {
                let failure: GzipError?
                if let prefetched {
                    failure = prefetched.error
                } else {
                    inflated.removeAll(keepingCapacity: true)
                    failure = inflate(inflater, count: n)
                }
                if let error = failure {
                    done = true  // before framing: nothing may be read ahead of damaged data
                    feedInflated()
                    framer.frame(body, chunkEnd: chunkEnd)
                    fail(error, body)
                    return .finished
                }
                feedInflated()
            } else {
                readBuffer.withUnsafeBytes { framer.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
            framer.frame(body, chunkEnd: chunkEnd)
        }
        return .more
    }

    /// Reads (and inflates) the next block now, for the next ``read(budget:_:chunkEnd:)`` to frame: another thread
    /// can do this while the lines of the current block are still being worked on (their bytes are in the framer's
    /// buffer, which this does not touch). Call it only while no other call on this reader runs, other than a
    /// `read` waiting in its `chunkEnd`. The position does not move until the block is framed, so a reader dropped
    /// with a block ahead loses nothing. At the end of the data, or on a read error, it does nothing (the next read
    /// finds the same).
    public func prefetch() {
        guard !done, ahead == nil, !readBuffer.isEmpty else { return }
        let n = readBuffer.withUnsafeMutableBytes { POSIXIO.read(descriptor, into: $0, at: Int64(filePosition)) }
        guard n > 0 else { return }
        if let inflater {
            inflated.removeAll(keepingCapacity: true)
            ahead = (n, inflate(inflater, count: n))
        } else {
            ahead = (n, nil)
        }
    }

    /// A read buffer for what the file has beyond the position now: at least 4 KiB, at most `readSize`.
    private func allocateReadBuffer() {
        var want = readSize
        if let st = FileStat.of(descriptor: descriptor), st.size > filePosition, !isCompressed {
            let remaining = st.size - filePosition
            want = Int(min(UInt64(readSize), max(4096, remaining)))
        } else if !isCompressed {
            want = min(readSize, 4096)
        }
        readBuffer = [UInt8](unsafeUninitializedCapacity: want) { _, count in count = want }
    }

    /// Drops the buffers an idle reader does not need (the framer keeps only an unterminated rest).
    private func releaseBuffers() {
        guard ahead == nil else { return }
        readBuffer = []
        inflated = []
        framer.releaseIfEmpty()
    }

    /// Inflates the first `count` bytes of the read buffer into `inflated`; returns the error if the data is damaged.
    private func inflate(_ inflater: GzipInflater, count: Int) -> GzipError? {
        var result: GzipError?
        readBuffer.withUnsafeBytes { raw in
            do throws(GzipError) {
                try inflater.inflate(UnsafeRawBufferPointer(rebasing: raw[0..<count]), into: &inflated)
            } catch {
                result = error
            }
        }
        return result
    }

    private func feedInflated() {
        guard !inflated.isEmpty else { return }
        if skipRemaining > 0 {
            let drop = Int(min(skipRemaining, UInt64(inflated.count)))
            skipRemaining -= UInt64(drop)
            if drop == inflated.count { return }
            inflated.withUnsafeBytes { framer.append(UnsafeRawBufferPointer(rebasing: $0[drop...])) }
        } else {
            framer.append(inflated)
        }
    }

    private func fail(_ error: GzipError, _ body: (LineEvent) -> Void) {
        done = true
        let at = framer.offset
        body(.corrupt(message: error.description, offset: at, compressedOffset: error.compressedOffset))
    }

    /// Declares the end of the input (a catch-up run reached it, or a rotated file is drained): a gzip stream that
    /// stopped inside a member is reported as truncated, and an unterminated last line is handed out when
    /// `includePartial` says so.
    public func finish(includePartial: Bool, _ body: (LineEvent) -> Void) {
        if let inflater, !done {
            do {
                try inflater.finish()
            } catch {
                if skipRemaining == 0 { framer.takePartial(body) }
                fail(error, body)
                return
            }
        }
        if includePartial { framer.takePartial(body) }
        if isCompressed { done = true }
    }

    /// The unterminated bytes at the end of what was read, without consuming them.
    public func peekPartial() -> [UInt8] { framer.peekPartial() }

    /// The size of the open file now (compressed size for gzip).
    public func currentSize() -> UInt64? { FileStat.of(descriptor: descriptor)?.size }
}
