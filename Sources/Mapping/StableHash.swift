/// A 128-bit hash that is the same on every run and machine, for ids that must not change when a line is
/// re-read (Swift's `Hasher` is randomly seeded per process, so it cannot be used).
///
/// Two FNV-1a lanes with different seeds, each finished with the SplitMix64 mixer: not cryptographic, but ids only
/// need to be stable and spread well.
struct StableHash {
    private var a: UInt64 = 0xcbf2_9ce4_8422_2325
    private var b: UInt64 = 0x84222325_cbf29ce4

    @inline(__always)
    mutating func addByte(_ byte: UInt8) {
        a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 ^ 0x9e37_79b9
    }

    mutating func add(_ s: String) {
        var s = s
        s.withUTF8 { for byte in $0 { addByte(byte) } }
        addByte(0xFF)  // separator: never in UTF-8, so ("ab","c") and ("a","bc") differ
    }

    mutating func add(_ v: UInt64) {
        var v = v
        for _ in 0..<8 {
            addByte(UInt8(truncatingIfNeeded: v))
            v >>= 8
        }
    }

    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// 32 lowercase hex digits.
    var hex: String {
        String(unsafeUninitializedCapacity: 32) { out in
            writeHex(to: UnsafeMutableRawBufferPointer(out))
            return 32
        }
    }

    /// Appends ``hex``'s 32 digits to `bytes`.
    func appendHex(to bytes: inout [UInt8]) {
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 1) { out in
            writeHex(to: out)
            bytes.append(contentsOf: out)
        }
    }

    private func writeHex(to out: UnsafeMutableRawBufferPointer) {
        var hi = Self.mix(a ^ (b &* 31))
        var lo = Self.mix(b ^ Self.mix(a))
        for i in stride(from: 15, through: 0, by: -1) {
            out[i] = Self.digit(hi & 0xF)
            out[i + 16] = Self.digit(lo & 0xF)
            hi >>= 4
            lo >>= 4
        }
    }

    @inline(__always)
    private static func digit(_ v: UInt64) -> UInt8 {
        v < 10 ? UInt8(truncatingIfNeeded: v) + 0x30 : UInt8(truncatingIfNeeded: v) + 0x57
    }
}
