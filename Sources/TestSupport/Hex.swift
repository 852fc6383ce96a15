import Crypto

/// Hex helpers for digests: SigV4 compares lower-case hex, and URI encoding needs upper-case digits.
enum Hex {
    static let lower: [UInt8] = Array("0123456789abcdef".utf8)
    static let upper: [UInt8] = Array("0123456789ABCDEF".utf8)

    static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(lower[Int(byte >> 4)])
            out.append(lower[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func value(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
