import Foundation

/// Hand-written hex and percent-encoding over bytes, because the signer runs for every request and
/// `String(format:)` / `addingPercentEncoding` are slow and not quite the encodings SigV4 specifies.
enum ByteEncoding {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
    private static let upperHexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Calls `body` with the lower-case hex form of a digest or MAC (at most 64 bytes), written on the stack.
    static func withHex<R>(of digest: some ContiguousBytes, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        digest.withUnsafeBytes { raw in
            withUnsafeTemporaryAllocation(byteCount: raw.count * 2, alignment: 1) { out in
                for (i, byte) in raw.enumerated() {
                    out[2 * i] = hexDigits[Int(byte >> 4)]
                    out[2 * i + 1] = hexDigits[Int(byte & 0x0F)]
                }
                return body(UnsafeRawBufferPointer(out))
            }
        }
    }

    /// Appends the lower-case hex form of `bytes` (SigV4 hashes and signatures are lower-case).
    static func appendHex(_ bytes: some Sequence<UInt8>, to out: inout [UInt8]) {
        for byte in bytes {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0F)])
        }
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        appendHex(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 3986 unreserved characters: the only ones SigV4 leaves unencoded.
    @inline(__always)
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Appends `bytes` percent-encoded with upper-case hex; `/` is kept when `keepSlash` is set.
    static func appendPercentEncoded(_ bytes: some Sequence<UInt8>, keepSlash: Bool, to out: inout [UInt8]) {
        for byte in bytes {
            if isUnreserved(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(upperHexDigits[Int(byte >> 4)])
                out.append(upperHexDigits[Int(byte & 0x0F)])
            }
        }
    }

    /// Decodes `%XX` escapes; a `%` not followed by two hex digits is kept as a literal `%`.
    /// `+` is not treated as a space: SigV4 canonicalises the query as RFC 3986, not HTML forms.
    static func percentDecoded(_ bytes: some Collection<UInt8>) -> [UInt8] {
        let input = Array(bytes)
        guard input.contains(UInt8(ascii: "%")) else { return input }
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            if input[index] == UInt8(ascii: "%"), index + 2 < input.count,
                let high = hexValue(input[index + 1]), let low = hexValue(input[index + 2])
            {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(input[index])
                index += 1
            }
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Appends bytes to a buffer allocated by the caller (on the stack) that is known to be large enough.
struct ByteScratch {
    private let buffer: UnsafeMutableRawBufferPointer
    private var count = 0

    init(_ buffer: UnsafeMutableRawBufferPointer) {
        self.buffer = buffer
    }

    /// What was appended so far.
    var written: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer[0..<count]) }

    mutating func append(_ byte: UInt8) {
        precondition(count < buffer.count, "scratch buffer too small")
        buffer[count] = byte
        count += 1
    }

    mutating func append(_ bytes: some ContiguousBytes) {
        bytes.withUnsafeBytes { append(raw: $0) }
    }

    mutating func append(raw bytes: UnsafeRawBufferPointer) {
        precondition(count + bytes.count <= buffer.count, "scratch buffer too small")
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        (buffer.baseAddress! + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }
}
