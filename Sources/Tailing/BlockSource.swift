import Gzip
import Synchronization
import SystemIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The reading half of a ``LogFileReader``: reads one open file block by block (inflating each block of a gzip
/// file), when the reader needs the next block, or ahead of it on another thread.
///
/// The engine's mapping worker reads the next block ahead while the engine maps the lines of the current one. So
/// that no state is shared between the two threads without synchronization the compiler can see, everything a read
/// changes (the position, the buffers, the inflater, the block read ahead) sits in one `Mutex`; the reader's other
/// half (the framer, with the bytes of the lines being mapped) stays with the reader's owner. The two threads do not
/// wait on each other in practice: the read ahead runs while the engine maps.
///
/// The position moves only when the reader takes a block, so a reader dropped with a block read ahead loses nothing.
public final class BlockSource: Sendable {
    /// What ``next()`` produced.
    enum Step: Sendable {
        /// A block: `read` bytes of the file, and, for gzip, the error that stopped the inflater in it (what it
        /// inflated before the error was still handed out).
        case data(read: Int, failure: GzipError?)
        /// No more bytes now; `finished` when a gzip file's last member ended there (nothing more will come).
        case end(finished: Bool)
        /// A plain file is now shorter than the position.
        case truncated
        /// The read failed (`errno` says why).
        case failed
    }

    private struct State {
        /// File (compressed, for gzip) position of the next read.
        var position: UInt64
        /// Sized when a read starts (see ``BlockSource/allocateBuffer(_:)``), released when the reader catches up.
        var buffer: [UInt8] = []
        var inflated: [UInt8] = []
        var inflater: GzipInflater?
        /// A block read (and inflated) ahead, not yet taken: its byte count and inflate error.
        var ahead: (count: Int, error: GzipError?)?
        /// Nothing more is read: a gzip stream ended or is damaged (set before its last lines are framed, so that
        /// nothing is read ahead of them).
        var done = false
        /// The anchor's bytes, once a look found the file beginning with them: later looks compare bytes instead of
        /// hashing the head again.
        var verifiedHead: [UInt8]?
    }

    let descriptor: Int32
    let isCompressed: Bool
    /// What a plain file begins with (its fingerprint when it was identified): a block is handed out only if the file
    /// still begins with it after the block was read (see ``FileIdentity/isTruncated(size:position:head:anchor:)``).
    private let anchor: Fingerprint?
    private let readSize: Int
    private let state: Mutex<State>

    /// Takes over `descriptor` (closed when this goes); reads start at `position`. `anchor` (plain files): see
    /// ``anchor``; without it, truncation is told by size alone.
    init(descriptor: Int32, compressed: Bool, readSize: Int, position: UInt64, anchor: Fingerprint? = nil) {
        self.descriptor = descriptor
        isCompressed = compressed
        self.anchor = compressed ? nil : anchor
        self.readSize = readSize
        state = Mutex(State(position: position, inflater: compressed ? GzipInflater() : nil))
    }

    deinit {
        close(descriptor)
    }

    /// Bytes of the file (compressed, for gzip) taken so far.
    var position: UInt64 { state.withLock { $0.position } }

    /// Whether nothing more will be read (see ``State/done``).
    var isDone: Bool { state.withLock { $0.done } }

    /// Declares that nothing more is to be read.
    func markDone() {
        state.withLock { $0.done = true }
    }

    /// The block read ahead, or the next one read now: its bytes (decompressed, for gzip) are handed to `take`,
    /// which copies them (they are only valid during the call).
    func next(_ take: (UnsafeRawBufferPointer) -> Void) -> Step {
        state.withLock { s in
            let prefetched = s.ahead
            s.ahead = nil
            if s.buffer.isEmpty { allocateBuffer(&s) }
            let n: Int
            if let prefetched {
                n = prefetched.count
            } else {
                n = read(&s)
            }
            if n < 0 { return .failed }
            // Looked at after the read: if the file still holds what it was identified by now, the block was read
            // from that content; if not, the block may come from what replaced it, and is dropped.
            if !isCompressed, n == 0 || anchor != nil, isTruncated(&s) { return .truncated }
            if n == 0 {
                if let inflater = s.inflater, inflater.isAtMemberBoundary, inflater.membersCompleted > 0 {
                    s.done = true
                    return .end(finished: true)
                }
                return .end(finished: false)
            }
            s.position += UInt64(n)
            guard s.inflater != nil else {
                s.buffer.withUnsafeBytes { take(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                return .data(read: n, failure: nil)
            }
            let failure: GzipError?
            if let prefetched {
                failure = prefetched.error
            } else {
                s.inflated.removeAll(keepingCapacity: true)
                failure = Self.inflate(&s, count: n)
            }
            if failure != nil { s.done = true }
            if !s.inflated.isEmpty { s.inflated.withUnsafeBytes { take($0) } }
            return .data(read: n, failure: failure)
        }
    }

    /// Reads (and inflates) the next block now, for the reader to take next: any thread may call it, at any time;
    /// while the reader's owner frames and maps the current block is when it helps. At the end of the data, on a
    /// read error, when a block is already ahead or before the reader's first read, it does nothing (the reader's
    /// next read finds the same).
    public func readAhead() {
        state.withLock { s in
            guard !s.done, s.ahead == nil, !s.buffer.isEmpty else { return }
            let n = read(&s)
            guard n > 0 else { return }
            if s.inflater != nil {
                s.inflated.removeAll(keepingCapacity: true)
                s.ahead = (n, Self.inflate(&s, count: n))
            } else {
                s.ahead = (n, nil)
            }
        }
    }

    /// Drops the buffers an idle reader does not need; false (keeping them) when a block is read ahead.
    func releaseBuffers() -> Bool {
        state.withLock { s in
            guard s.ahead == nil else { return false }
            s.buffer = []
            s.inflated = []
            return true
        }
    }

    /// Ends a gzip stream that is not done: the error when it stopped inside a member (nothing more is read then).
    func finishInflating() -> GzipError? {
        state.withLock { s -> GzipError? in
            guard let inflater = s.inflater, !s.done else { return nil }
            do throws(GzipError) {
                try inflater.finish()
                return nil
            } catch {
                s.done = true
                return error
            }
        }
    }

    /// Whether the plain file was truncated under the reader at its position (one `fstat` and a read of the anchor's
    /// bytes: done once per block or per look at the end, never per line). The head is hashed until it matches the
    /// anchor once; after that a look compares the bytes read with those that matched.
    private func isTruncated(_ s: inout State) -> Bool {
        guard let st = FileStat.of(descriptor: descriptor) else { return false }
        var head: [UInt8] = []
        if let anchor, st.size >= s.position {
            head = [UInt8](repeating: 0, count: anchor.length)
            let n = head.withUnsafeMutableBytes { POSIXIO.read(descriptor, into: $0, at: 0) }
            guard n >= 0 else { return false }  // a failed look proves nothing; the next read reports the error
            head.removeLast(anchor.length - n)
            if let verified = s.verifiedHead { return head != verified }
        }
        let truncated = FileIdentity.isTruncated(size: st.size, position: s.position, head: head, anchor: anchor)
        if anchor != nil, !truncated, !head.isEmpty { s.verifiedHead = head }
        return truncated
    }

    /// Reads into the buffer at the position (which does not move).
    private func read(_ s: inout State) -> Int {
        let position = Int64(s.position)
        return s.buffer.withUnsafeMutableBytes { POSIXIO.read(descriptor, into: $0, at: position) }
    }

    /// A read buffer for what the file has beyond the position now: at least 4 KiB, at most `readSize`.
    private func allocateBuffer(_ s: inout State) {
        var want = readSize
        if let st = FileStat.of(descriptor: descriptor), st.size > s.position, !isCompressed {
            let remaining = st.size - s.position
            want = Int(min(UInt64(readSize), max(4096, remaining)))
        } else if !isCompressed {
            want = min(readSize, 4096)
        }
        s.buffer = [UInt8](unsafeUninitializedCapacity: want) { _, count in count = want }
    }

    /// Inflates the first `count` bytes of the buffer into `inflated`; returns the error if the data is damaged.
    private static func inflate(_ s: inout State, count: Int) -> GzipError? {
        guard let inflater = s.inflater else { return nil }
        var result: GzipError?
        s.buffer.withUnsafeBytes { raw in
            do throws(GzipError) {
                try inflater.inflate(UnsafeRawBufferPointer(rebasing: raw[0..<count]), into: &s.inflated)
            } catch {
                result = error
            }
        }
        return result
    }
}
