import Foundation
import JSON
import Testing

@testable import Mapping

@Suite struct TimeFormatTests {
    static let t0: Int64 = 1_705_322_096_000  // 2024-01-15T12:34:56Z

    static func read(_ value: String, format: String? = nil, zone: String? = nil) -> Int64? {
        let reader = ConfigReader()
        let f = TimeFormat.make(format: format, timeZone: zone, reader: reader, path: "f")
        #expect(reader.issues.isEmpty)
        return try? f.read(JSONParser.parse(value)).get()
    }

    @Test(arguments: [
        (#""2024-01-15T12:34:56Z""#, t0),
        (#""2024-01-15t12:34:56z""#, t0),
        (#""2024-01-15 12:34:56Z""#, t0),
        (#""2024-01-15T12:34:56.789Z""#, t0 + 789),
        (#""2024-01-15T12:34:56.7Z""#, t0 + 700),
        (#""2024-01-15T12:34:56.123456789Z""#, t0 + 123),
        (#""2024-01-15T13:34:56+01:00""#, t0),
        (#""2024-01-15T07:34:56-0500""#, t0),
        (#""2024-01-15T12:34:56""#, t0),
        (#""2024-01-15T12:34Z""#, t0 - 56_000),
        (#""2024-01-15""#, 1_705_276_800_000),
        (#""2024-02-29T00:00:00Z""#, 1_709_164_800_000),
        ("1705322096", t0),
        ("1705322096.5", t0 + 500),
        ("1705322096000", t0),
        ("1705322096000000", t0),
        ("1705322096000000000", t0),
        (#""1705322096""#, t0),
    ])
    func auto(value: String, expected: Int64) {
        #expect(Self.read(value) == expected)
    }

    @Test(arguments: [
        ("epochSeconds", "1705322096", t0),
        ("epochSeconds", #""1705322096.25""#, t0 + 250),
        ("epochMillis", "1705322096123", t0 + 123),
        ("epochMicros", "1705322096123456", t0 + 123),
        ("epochNanos", "1705322096123456789", t0 + 123),
        ("epoch", "1705322096", t0),
        ("epoch", "1705322096123", t0 + 123),
        ("epochMillis", "-1", -1),
        ("epochSeconds", "0", 0),
    ])
    func epochUnits(format: String, value: String, expected: Int64) {
        #expect(Self.read(value, format: format) == expected)
    }

    @Test(arguments: [
        ("iso8601", #""2024-13-01T00:00:00Z""#), ("iso8601", #""2023-02-29T00:00:00Z""#),
        ("iso8601", #""2024-01-15T24:00:00Z""#), ("iso8601", #""2024-01-15T12:34:56.Z""#),
        ("iso8601", #""2024-01-15T12:34:56+1""#), ("iso8601", #""2024-01-15X12:34:56Z""#),
        ("iso8601", #""2024-01-15T12:34:56Z junk""#), ("iso8601", #""""#), ("iso8601", "1705322096"),
        ("auto", #""yesterday""#), ("auto", #""NaN""#), ("auto", #""Infinity""#), ("auto", "true"), ("auto", "[1]"),
        ("auto", "1e400"), ("epochSeconds", "99999999999999999999"), ("epochSeconds", "1e300"),
        ("epochMillis", #""0x10""#), ("epochMillis", #"" 12""#), ("epochNanos", "{}"),
    ])
    func rejectsMalformed(format: String, value: String) {
        #expect(Self.read(value, format: format) == nil)
    }

    @Test func localTimeUsesTimeZone() {
        // 12:34:56 in Paris in January is 11:34:56Z; in July (summer time) 10:34:56Z.
        #expect(Self.read(#""2024-01-15T12:34:56""#, format: "iso8601", zone: "Europe/Paris") == Self.t0 - 3_600_000)
        #expect(Self.read(#""2024-07-15 12:34:56""#, zone: "Europe/Paris") == 1_721_039_696_000)
        // An explicit offset wins over the zone.
        #expect(Self.read(#""2024-01-15T12:34:56Z""#, zone: "Europe/Paris") == Self.t0)
    }

    @Test func customPatterns() {
        #expect(Self.read(#""15/Jan/2024:13:34:56 +0100""#, format: "dd/MMM/yyyy:HH:mm:ss Z") == Self.t0)
        #expect(Self.read(#""2024-01-15 12:34:56""#, format: "yyyy-MM-dd HH:mm:ss") == Self.t0)
        #expect(Self.read(#""20240115123456""#, format: "yyyyMMddHHmmss") == Self.t0)
        #expect(Self.read(#""2024-01-15 13:34:56""#, format: "yyyy-MM-dd HH:mm:ss", zone: "Europe/Berlin") == Self.t0)
        #expect(Self.read(#""15/Foo/2024:13:34:56 +0100""#, format: "dd/MMM/yyyy:HH:mm:ss Z") == nil)
        #expect(Self.read("1705322096", format: "yyyy-MM-dd HH:mm:ss") == nil)
    }

    @Test func badFormatsAndZonesAreConfigErrors() {
        let reader = ConfigReader()
        _ = TimeFormat.make(format: "isoo8601", timeZone: "Mars/Olympus", reader: reader, path: "f")
        #expect(
            reader.issues.map(\.description) == [
                #"f.timeZone: unknown time zone "Mars/Olympus"; use an IANA name such as "Europe/Paris" or "UTC""#,
                #"f.format: unknown format "isoo8601"; use one of "auto", "iso8601", "epoch", "epochSeconds", "epochMillis", "epochMicros", "epochNanos" or a pattern such as "yyyy-MM-dd HH:mm:ss""#,
            ])
    }

    @Test func civilDaysMatchFoundation() {
        var rng = SplitMix64(seed: 7)
        let calendar = Calendar(identifier: .gregorian)
        for _ in 0..<500 {
            let y = Int.random(in: 1600...9999, using: &rng)
            let m = Int.random(in: 1...12, using: &rng)
            let d = Int.random(in: 1...TimeParsing.daysInMonth(y, m), using: &rng)
            var c = DateComponents(year: y, month: m, day: d)
            c.timeZone = TimeZone(identifier: "UTC")
            let date = calendar.date(from: c)!
            #expect(Int64(TimeParsing.daysFromCivil(y, m, d)) * 86_400 == Int64(date.timeIntervalSince1970))
        }
    }
}
