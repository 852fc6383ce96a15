import CZlib

/// Streaming gunzip over any number of concatenated gzip members, fed in chunks as a file is read.
///
/// Log rotators and `cat a.gz b.gz` produce multi-member files; zlib stops at the end of each member, so after
/// `Z_STREAM_END` this class resets zlib and goes on with the next member. Zero bytes after a member are skipped
/// (some tools pad archives to a block size); anything else that is not a member is reported as trailing garbage.
///
/// Memory: output is produced in fixed 64 KiB steps and appended to the caller's array, so it grows only by what
/// the data really decompresses to. Deflate can expand up to ~1000×, so feed modest chunks (64 KiB–1 MiB) and drain
/// `output` between calls to keep memory bounded.
///
/// Not `Sendable`: one reader owns one inflater. The first error is sticky; every later call throws it again.
public final class GzipInflater {
    /// Output produced per `inflate` step; big enough to amortise calls, small enough to stay in cache.
    static let outputStep = 64 * 1024

    private let stream: UnsafeMutablePointer<z_stream>
    private let scratch: UnsafeMutablePointer<UInt8>
    /// Offset of the first byte of the member being decoded; header errors are reported there.
    private var memberStart: UInt64 = 0
    private var inMember = false
    /// Set when decoding resumes mid-file: what follows is judged as if a member had just ended.
    private var resumed = false
    private var failure: GzipError?

    /// Bytes of compressed input consumed so far, zero padding included.
    public private(set) var compressedBytesConsumed: UInt64 = 0
    /// Bytes of decompressed output appended to callers' arrays so far.
    public private(set) var decompressedBytesProduced: UInt64 = 0
    /// Members whose trailer (CRC-32 and length) has been read and checked.
    public private(set) var membersCompleted = 0

    /// True before any input and right after a member ended: stopping here loses nothing, and a checkpoint taken
    /// here can resume with `GzipInflater(resumingAtMemberBoundary: compressedBytesConsumed)`.
    public var isAtMemberBoundary: Bool { !inMember }

    public init() {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        scratch = .allocate(capacity: Self.outputStep)
        // 15 + 16: maximum window, gzip wrapper only (a zlib or raw stream is not a gzip file).
        let rc = czlib_inflateInit2(stream, 15 + 16)
        precondition(rc == Z_OK, "inflateInit2 failed (\(rc)); zlib is out of memory or mismatched")
    }

    /// Resumes a file at a member boundary recorded earlier (see `isAtMemberBoundary`), so a reader need not decode
    /// it again from the start. Offsets in errors and `compressedBytesConsumed` continue from `offset`; zero padding
    /// is tolerated there and non-gzip data is reported as trailing garbage, as after any member.
    public convenience init(resumingAtMemberBoundary offset: UInt64) {
        self.init()
        compressedBytesConsumed = offset
        memberStart = offset
        resumed = offset > 0
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        scratch.deallocate()
    }

    /// Decompresses `input`, the next chunk of the compressed file, and appends what it yields to `output`.
    ///
    /// All input is consumed unless an error is thrown; output decoded before the error is still appended, so the
    /// caller keeps what was read up to the damage. zlib may notice damage only at a member's CRC-32 trailer, so
    /// after `.checksumMismatch` the bytes already delivered from that member may include altered data.
    public func inflate(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(GzipError) {
        if let failure { throw failure }
        guard let base = input.baseAddress else { return }
        var next = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: UInt8.self))
        var remaining = input.count
        do {
            while remaining > 0 {
                if !inMember {
                    let skipped = try startMember(next, remaining)
                    next += skipped
                    remaining -= skipped
                    if remaining == 0 { break }
                }
                let used = try inflateMember(next, min(remaining, Int(UInt32.max)), into: &output)
                next += used
                remaining -= used
            }
        } catch {
            failure = error
            throw error
        }
    }

    /// Convenience for callers holding an array.
    public func inflate(_ input: [UInt8], into output: inout [UInt8]) throws(GzipError) {
        let result: Result<Void, GzipError> = input.withUnsafeBytes { bytes in
            do throws(GzipError) {
                return .success(try inflate(bytes, into: &output))
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// Call at end of file: throws `.truncated` if the input stopped inside a member (a cut or still-growing file).
    /// Everything decodable was already delivered by `inflate`.
    public func finish() throws(GzipError) {
        if let failure { throw failure }
        if inMember {
            throw GzipError.truncated(at: compressedBytesConsumed, member: membersCompleted)
        }
    }

    /// Forgets all input and counters, so the same inflater (and its zlib state) can read another file.
    public func reset() {
        inflateReset(stream)
        memberStart = 0
        inMember = false
        failure = nil
        compressedBytesConsumed = 0
        decompressedBytesProduced = 0
        membersCompleted = 0
        resumed = false
    }

    // MARK: - Steps

    /// After a member (or resuming after one), zero bytes are padding and a non-member is trailing garbage.
    private var pastFirstMember: Bool { membersCompleted > 0 || resumed }

    /// At a member boundary: skips zero padding (only after a first member) and checks that a member starts.
    /// Returns the number of padding bytes skipped.
    private func startMember(_ next: UnsafeMutablePointer<UInt8>, _ count: Int) throws(GzipError) -> Int {
        var skipped = 0
        if pastFirstMember {
            while skipped < count && next[skipped] == 0 { skipped += 1 }
            compressedBytesConsumed += UInt64(skipped)
            if skipped == count { return skipped }
        }
        guard next[skipped] == GzipFormat.magic.0 else {
            if pastFirstMember {
                throw .trailingGarbage(at: compressedBytesConsumed, members: membersCompleted)
            }
            throw .badHeader(at: compressedBytesConsumed, detail: "missing 1f 8b magic")
        }
        if membersCompleted > 0 { inflateReset(stream) }  // zlib stops at Z_STREAM_END until reset
        memberStart = compressedBytesConsumed
        inMember = true
        return skipped
    }

    /// Runs zlib over at most `count` bytes (≤ 4 GiB, zlib's limit) until they are used up or the member ends.
    /// Returns the number of bytes consumed.
    private func inflateMember(
        _ next: UnsafeMutablePointer<UInt8>, _ count: Int, into output: inout [UInt8]
    ) throws(GzipError) -> Int {
        stream.pointee.next_in = next
        stream.pointee.avail_in = UInt32(count)
        var rc: Int32
        repeat {
            stream.pointee.next_out = scratch
            stream.pointee.avail_out = UInt32(Self.outputStep)
            rc = CZlib.inflate(stream, Z_NO_FLUSH)
            let produced = Self.outputStep - Int(stream.pointee.avail_out)
            if produced > 0 {
                output.append(contentsOf: UnsafeBufferPointer(start: scratch, count: produced))
                decompressedBytesProduced += UInt64(produced)
            }
        } while rc == Z_OK && (stream.pointee.avail_in > 0 || stream.pointee.avail_out == 0)
        let used = count - Int(stream.pointee.avail_in)
        compressedBytesConsumed += UInt64(used)
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0

        switch rc {
        case Z_OK, Z_BUF_ERROR:
            return used  // needs more input; Z_BUF_ERROR only means "no progress possible with what was given"
        case Z_STREAM_END:
            membersCompleted += 1
            inMember = false
            return used
        default:
            throw zlibError(rc)
        }
    }

    /// Maps a zlib failure to a `GzipError` by zlib's message, which is the only place it says what it saw.
    private func zlibError(_ rc: Int32) -> GzipError {
        let detail = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
        let offset = compressedBytesConsumed
        switch (rc, detail) {
        case (Z_MEM_ERROR, _):
            return .outOfMemory(at: offset)
        case (_, "incorrect header check") where pastFirstMember:
            return .trailingGarbage(at: memberStart, members: membersCompleted)
        case (_, "incorrect header check"):
            return .badHeader(at: memberStart, detail: "missing 1f 8b magic")
        case (_, "unknown compression method"), (_, "unknown header flags set"), (_, "header crc mismatch"):
            return .badHeader(at: offset, detail: detail)
        case (_, "incorrect data check"), (_, "incorrect length check"):
            return .checksumMismatch(at: offset, member: membersCompleted, detail: detail)
        default:
            return .corruptData(at: offset, member: membersCompleted, detail: detail)
        }
    }
}

/// One reader owns an inflater; it holds zlib state that must not be shared across tasks.
@available(*, unavailable)
extension GzipInflater: Sendable {}
