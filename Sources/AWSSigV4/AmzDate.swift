import Foundation

/// The `X-Amz-Date` timestamp (`yyyyMMdd'T'HHmmss'Z'`, UTC) as ASCII bytes.
///
/// Computed from the epoch seconds with Howard Hinnant's `civil_from_days` algorithm instead of a
/// `DateFormatter`: signing is on the hot path, and formatters are slow, locale- and
/// calendar-sensitive, and not `Sendable`.
struct AmzDate: Sendable, Equatable {
    /// 16 bytes: `20150830T123600Z`.
    let bytes: [UInt8]
    /// Days since 1970-01-01, the signing-key cache's notion of "day".
    let dayNumber: Int

    init(_ date: Date) {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let (days, secondOfDay) = Self.floorDivMod(seconds, 86_400)
        let (year, month, day) = Self.civil(fromDays: days)
        var out = [UInt8](repeating: 0, count: 16)
        Self.put(year, digits: 4, into: &out, at: 0)
        Self.put(month, digits: 2, into: &out, at: 4)
        Self.put(day, digits: 2, into: &out, at: 6)
        out[8] = UInt8(ascii: "T")
        Self.put(secondOfDay / 3600, digits: 2, into: &out, at: 9)
        Self.put(secondOfDay / 60 % 60, digits: 2, into: &out, at: 11)
        Self.put(secondOfDay % 60, digits: 2, into: &out, at: 13)
        out[15] = UInt8(ascii: "Z")
        self.bytes = out
        self.dayNumber = days
    }

    /// `yyyyMMddTHHmmssZ`.
    var timestamp: String { String(decoding: bytes, as: UTF8.self) }
    /// `yyyyMMdd`, the date of the credential scope.
    var dateStamp: ArraySlice<UInt8> { bytes[0..<8] }

    // MARK: - Arithmetic

    private static func floorDivMod(_ value: Int, _ divisor: Int) -> (Int, Int) {
        let quotient = value >= 0 ? value / divisor : (value - divisor + 1) / divisor
        return (quotient, value - quotient * divisor)
    }

    /// Proleptic Gregorian (year, month, day) for a count of days since 1970-01-01.
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func put(_ value: Int, digits: Int, into out: inout [UInt8], at offset: Int) {
        var remaining = value
        for index in stride(from: offset + digits - 1, through: offset, by: -1) {
            out[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remaining % 10)
            remaining /= 10
        }
    }
}
