import JSON

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Helpers for the `properties` member, which the API takes as a *string* holding a serialized JSON object.
public enum PropertiesText {
    /// Serializes `object` the way the service expects it inside the `properties` string.
    public static func make(_ object: JSONObject) -> String {
        JSONValue.object(object).serialized
    }

    /// The top-level keys of a properties string, or `nil` when it is not a JSON object.
    public static func keys(of text: String) -> [String]? {
        guard case .object(let object)? = try? JSONParser.parse(text) else { return nil }
        return object.keys
    }

    /// Whether `text` may hold one of `keys` (lower-case ASCII) as a quoted member name, compared
    /// case-insensitively. Conservative: any backslash (an escape could spell a key) answers true. It lets the
    /// limit check skip parsing the properties string of nearly every record.
    static func mayContainKey(_ text: String, among keys: [[UInt8]]) -> Bool {
        var firstLetters: UInt64 = 0
        for key in keys {
            guard let first = key.first, first >= 0x40 else {
                firstLetters = ~0
                break
            }
            firstLetters |= 1 << UInt64(first & 63)
        }
        var text = text
        return text.withUTF8 { bytes in
            let n = bytes.count
            guard let base = bytes.baseAddress, n > 0 else { return false }
            if memchr(base, Int32(UInt8(ascii: "\\")), n) != nil { return true }
            var i = 0
            // From quote to quote (memchr: most of the text is skipped in vector steps).
            while i < n, let hit = memchr(base + i, Int32(UInt8(ascii: "\"")), n - i) {
                i = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - base
                // Skip quotes whose next byte cannot start any key (compared by its low six bits, case folded).
                if i + 1 < n, firstLetters & (1 << UInt64((bytes[i + 1] | 0x20) & 63)) != 0 {
                    for key in keys where i + key.count + 1 < n && bytes[i + key.count + 1] == UInt8(ascii: "\"") {
                        var match = true
                        for k in 0..<key.count where bytes[i + 1 + k] | 0x20 != key[k] {
                            match = false
                            break
                        }
                        if match { return true }
                    }
                }
                i += 1
            }
            return false
        }
    }
}
