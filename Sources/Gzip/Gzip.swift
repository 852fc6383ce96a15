import CZlib

/// Whole-buffer gzip helpers, for tests, fixtures and small payloads. Files should go through `GzipInflater`.
public enum Gzip {
    /// Compresses `data` into one gzip member (zlib's `deflateInit2` with windowBits 15 + 16).
    /// `level` is clamped to zlib's range: -1 (default, 6), 0 (store) ... 9 (smallest).
    public static func compress(_ data: [UInt8], level: Int32 = 6) -> [UInt8] {
        // zlib keeps a back-pointer to the z_stream, so it needs a stable address, not a Swift local.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = czlib_deflateInit2(
            stream, min(max(level, -1), 9), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)
        precondition(rc == Z_OK, "deflateInit2 failed (\(rc)); zlib is out of memory or mismatched")
        defer {
            deflateEnd(stream)
            stream.deallocate()
        }

        var output: [UInt8] = []
        output.reserveCapacity(Int(deflateBound(stream, UInt(data.count))))
        let step = 256 * 1024
        let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: step)
        defer { scratch.deallocate() }
        data.withUnsafeBytes { input in
            var next = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
            var remaining = input.count
            var status: Int32 = Z_OK
            while status != Z_STREAM_END {
                if stream.pointee.avail_in == 0 {
                    let take = min(remaining, Int(UInt32.max))
                    stream.pointee.next_in = next
                    stream.pointee.avail_in = UInt32(take)
                    next = next.map { $0 + take }
                    remaining -= take
                }
                stream.pointee.next_out = scratch
                stream.pointee.avail_out = UInt32(step)
                status = deflate(stream, remaining == 0 ? Z_FINISH : Z_NO_FLUSH)
                precondition(status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR, "deflate: \(status)")
                output.append(
                    contentsOf: UnsafeBufferPointer(start: scratch, count: step - Int(stream.pointee.avail_out)))
            }
        }
        return output
    }

    /// Decompresses a whole gzip file held in memory (all members); throws if it is damaged or cut short.
    public static func decompress(_ data: [UInt8]) throws(GzipError) -> [UInt8] {
        let inflater = GzipInflater()
        var output: [UInt8] = []
        try inflater.inflate(data, into: &output)
        try inflater.finish()
        return output
    }
}
