import CZlib
import Gzip

/// Deterministic generator (SplitMix64) so every failure reproduces with the same bytes.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum TestData {
    /// Incompressible bytes: deflate stores them, so input and output sizes are close.
    static func randomBytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        var rng = SeededGenerator(seed: seed)
        var bytes = [UInt8](repeating: 0, count: count)
        var index = 0
        while index < count {
            var word = rng.next()
            for _ in 0..<min(8, count - index) {
                bytes[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        return bytes
    }

    /// JSON-lines text like the agent reads: compresses ~5×, so deflate uses Huffman blocks and back-references.
    static func jsonLines(byteCount: Int, seed: UInt64 = 2) -> [UInt8] {
        var rng = SeededGenerator(seed: seed)
        let types = ["click", "view", "purchase", "add_to_cart"]
        var out: [UInt8] = []
        out.reserveCapacity(byteCount + 200)
        var id = 0
        while out.count < byteCount {
            let line =
                #"{"eventId":"e\#(id)","userId":"u\#(rng.next() % 50_000)","itemId":"i\#(rng.next() % 9_000)","#
                + #""eventType":"\#(types[Int(rng.next() % 4)])","sentAt":\#(1_700_000_000 + id / 3)}"# + "\n"
            out.append(contentsOf: line.utf8)
            id += 1
        }
        return Array(out.prefix(byteCount))
    }
}

/// The outcome of feeding a stream in chunks: what was delivered, and the first error (from `inflate` or `finish`).
struct FeedResult {
    var output: [UInt8] = []
    var error: GzipError?
    var inflater: GzipInflater
}

/// Feeds `data` to a fresh inflater in chunks whose sizes come from `nextChunk`, then calls `finish`.
func feed(_ data: [UInt8], chunks nextChunk: (Int) -> Int = { $0 }) -> FeedResult {
    var result = FeedResult(inflater: GzipInflater())
    var start = 0
    do throws(GzipError) {
        while start < data.count {
            let end = min(data.count, start + max(1, nextChunk(data.count - start)))
            try result.inflater.inflate(Array(data[start..<end]), into: &result.output)
            start = end
        }
        try result.inflater.finish()
    } catch {
        result.error = error
    }
    return result
}

/// Wraps bytes for `#expect(Bytes(a) == Bytes(b))`: a failure prints sizes and the first difference instead of
/// Swift Testing's element-by-element diff, which is quadratic and never finishes on megabyte arrays.
struct Bytes: Equatable, CustomStringConvertible {
    let value: [UInt8]
    init(_ value: [UInt8]) { self.value = value }

    var description: String {
        "\(value.count) bytes, CRC-32 \(String(crc32(0, value, UInt32(value.count)), radix: 16))"
    }
}
