/// Hand-written parsers for the time formats logs use most, returning epoch milliseconds.
///
/// They exist because `DateFormatter` and `ISO8601DateFormatter` cost microseconds per call and are not safe to
/// share between threads; these read UTF-8 bytes directly and allocate nothing.
enum TimeParsing {
    /// Earliest and latest instants accepted (years 0001 to 9999): anything outside is a unit mistake.
    static let minMillis: Int64 = -62_135_596_800_000
    static let maxMillis: Int64 = 253_402_300_799_999

    enum EpochUnit: Sendable, Hashable {
        case seconds, millis, micros, nanos
        /// Picks the unit from the magnitude: seconds up to 1e11 (year 5138), then ms, µs, ns.
        static func guess(_ magnitude: Double) -> EpochUnit {
            magnitude < 1e11 ? .seconds : magnitude < 1e14 ? .millis : magnitude < 1e17 ? .micros : .nanos
        }
    }

    /// Epoch milliseconds from a JSON number literal in `unit` (`nil` = by magnitude).
    static func epoch(literal: String, unit: EpochUnit?) -> Int64? {
        var integer: Int64?
        if !literal.utf8.contains(where: {
            $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E")
        }) {
            integer = Int64(literal)
        }
        if let v = integer {
            let unit = unit ?? EpochUnit.guess(Double(v.magnitude))
            let ms: Int64
            switch unit {
            case .seconds:
                let (r, overflow) = v.multipliedReportingOverflow(by: 1000)
                if overflow { return nil }
                ms = r
            case .millis: ms = v
            case .micros: ms = floorDiv(v, 1000)
            case .nanos: ms = floorDiv(v, 1_000_000)
            }
            return inRange(ms)
        }
        guard let d = Double(literal), d.isFinite else { return nil }
        let unit = unit ?? EpochUnit.guess(d.magnitude)
        let factor: Double
        switch unit {
        case .seconds: factor = 1000
        case .millis: factor = 1
        case .micros: factor = 0.001
        case .nanos: factor = 0.000_001
        }
        let ms = (d * factor).rounded(.down)
        guard ms.isFinite, ms.magnitude < 9e15 else { return nil }
        return inRange(Int64(ms))
    }

    @inline(__always)
    static func inRange(_ ms: Int64) -> Int64? {
        ms >= minMillis && ms <= maxMillis ? ms : nil
    }

    @inline(__always)
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// Whether `s` is a JSON number (so that "NaN", "inf", "0x10" or " 12" are not taken for numbers).
    static func isNumberLiteral(_ s: String) -> Bool {
        var it = s.utf8.makeIterator()
        var b = it.next()
        if b == UInt8(ascii: "-") { b = it.next() }
        func digit(_ x: UInt8?) -> Bool { x.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
        guard digit(b) else { return false }
        if b == UInt8(ascii: "0") { b = it.next() } else { while digit(b) { b = it.next() } }
        if b == UInt8(ascii: ".") {
            b = it.next()
            guard digit(b) else { return false }
            while digit(b) { b = it.next() }
        }
        if b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
            b = it.next()
            if b == UInt8(ascii: "+") || b == UInt8(ascii: "-") { b = it.next() }
            guard digit(b) else { return false }
            while digit(b) { b = it.next() }
        }
        return b == nil
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func daysInMonth(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
