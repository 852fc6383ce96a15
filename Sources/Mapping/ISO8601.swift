/// RFC 3339 / ISO 8601 date-times: `2024-01-15T12:34:56Z`, `2024-01-15 12:34:56.789+01:00`,
/// `2024-01-15T12:34:56.123456-0500`, `2024-01-15T12:34` and `2024-01-15`.
///
/// A value without an offset is local time in the rule's `timeZone`, or UTC when none is configured; the caller
/// resolves that case (it needs the time-zone database, which is kept off this path).
enum ISO8601 {
    struct Parsed: Equatable {
        /// Milliseconds since the epoch of the wall-clock reading taken as UTC.
        var wallMillis: Int64
        /// Offset from UTC in seconds, when the text carries one.
        var offsetSeconds: Int?

        var utcMillis: Int64? { offsetSeconds.map { wallMillis - Int64($0) * 1000 } }
    }

    static func parse(_ text: String) -> Parsed? {
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    static func parse(bytes b: UnsafeBufferPointer<UInt8>) -> Parsed? {
        var i = 0
        @inline(__always) func digits(_ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in 0..<n {
                let d = b[i + k] &- 0x30
                guard d < 10 else { return nil }
                v = v * 10 + Int(d)
            }
            i += n
            return v
        }
        @inline(__always) func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(UInt8(ascii: "-")), let month = digits(2), expect(UInt8(ascii: "-")),
            let day = digits(2), (1...12).contains(month), day >= 1, day <= TimeParsing.daysInMonth(year, month)
        else { return nil }
        var hour = 0
        var minute = 0
        var second = 0
        var millis = 0
        var offset: Int?
        if i < b.count {
            let sep = b[i]
            guard sep == UInt8(ascii: "T") || sep == UInt8(ascii: "t") || sep == UInt8(ascii: " ") else { return nil }
            i += 1
            guard let h = digits(2), expect(UInt8(ascii: ":")), let m = digits(2), h < 24, m < 60 else { return nil }
            hour = h
            minute = m
            if expect(UInt8(ascii: ":")) {
                guard let s = digits(2), s <= 60 else { return nil }
                second = s
                if i < b.count, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: ",") {
                    i += 1
                    var count = 0
                    while i < b.count, b[i] &- 0x30 < 10 {
                        if count < 3 { millis = millis * 10 + Int(b[i] - 0x30) }
                        count += 1
                        i += 1
                    }
                    guard count > 0 else { return nil }
                    for _ in count..<max(count, 3) { millis *= 10 }
                }
            }
            if i < b.count {
                let z = b[i]
                if z == UInt8(ascii: "Z") || z == UInt8(ascii: "z") {
                    i += 1
                    offset = 0
                } else if z == UInt8(ascii: "+") || z == UInt8(ascii: "-") {
                    i += 1
                    guard let oh = digits(2), oh < 24 else { return nil }
                    _ = expect(UInt8(ascii: ":"))
                    guard let om = digits(2), om < 60 else { return nil }
                    offset = (oh * 3600 + om * 60) * (z == UInt8(ascii: "-") ? -1 : 1)
                } else {
                    return nil
                }
            }
            guard i == b.count else { return nil }
        }
        let days = Int64(TimeParsing.daysFromCivil(year, month, day))
        let wall = ((days * 24 + Int64(hour)) * 60 + Int64(minute)) * 60 + Int64(second)
        return Parsed(wallMillis: wall * 1000 + Int64(millis), offsetSeconds: offset)
    }
}
