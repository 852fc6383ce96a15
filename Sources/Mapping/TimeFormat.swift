import Foundation
import JSON

/// How a time field is read from a record. Parsed once per rule; `DateFormatter` is only used for custom
/// patterns, and the time-zone database only for ISO 8601 values that carry no offset while a `timeZone` is set.
struct TimeFormat: Sendable {
    enum Kind: Sendable {
        case auto
        case iso8601
        case epoch(TimeParsing.EpochUnit?)
        case pattern(CustomTimePattern)
    }

    let kind: Kind
    /// The zone for ISO 8601 values without an offset; `nil` means UTC.
    let zone: TimeZone?

    static let names = ["auto", "iso8601", "epoch", "epochSeconds", "epochMillis", "epochMicros", "epochNanos"]

    static let `default` = TimeFormat(kind: .auto, zone: nil)

    /// Builds a format from the `format` and `timeZone` settings, reporting problems into `reader`.
    static func make(format: String?, timeZone: String?, reader: ConfigReader, path: String) -> TimeFormat {
        var zone: TimeZone?
        if let timeZone {
            zone = TimeZone(identifier: timeZone)
            if zone == nil {
                reader.report(
                    ConfigReader.join(path, "timeZone"),
                    "unknown time zone \"\(timeZone)\"; use an IANA name such as \"Europe/Paris\" or \"UTC\"")
            }
        }
        let kind: Kind
        switch format ?? "auto" {
        case "auto": kind = .auto
        case "iso8601": kind = .iso8601
        case "epoch": kind = .epoch(nil)
        case "epochSeconds": kind = .epoch(.seconds)
        case "epochMillis": kind = .epoch(.millis)
        case "epochMicros": kind = .epoch(.micros)
        case "epochNanos": kind = .epoch(.nanos)
        case let pattern:
            // A custom pattern has a year, hour or minute field; anything else is a misspelt format name.
            if ["yy", "HH", "hh", "mm"].contains(where: { pattern.contains($0) }) {
                kind = .pattern(CustomTimePattern(pattern: pattern, zone: zone ?? TimeZone(identifier: "UTC")!))
            } else {
                let names = names.map { "\"\($0)\"" }.joined(separator: ", ")
                reader.report(
                    ConfigReader.join(path, "format"),
                    "unknown format \"\(pattern)\"; use one of \(names) or a pattern such as \"yyyy-MM-dd HH:mm:ss\"")
                kind = .auto
            }
        }
        return TimeFormat(kind: kind, zone: zone)
    }

    /// Epoch milliseconds of `value`, or a description of what was wrong with it.
    func read(_ value: JSONValue) -> Result<Int64, ValueProblem> {
        switch (kind, value) {
        case (.auto, .number(let n)), (.epoch(nil), .number(let n)):
            return TimeParsing.epoch(literal: n.literal, unit: nil).map { .success($0) } ?? bad(value, "an epoch time")
        case (.epoch(let unit), .number(let n)):
            return TimeParsing.epoch(literal: n.literal, unit: unit).map { .success($0) } ?? bad(value, "an epoch time")
        case (.epoch(let unit), .string(let s)):
            guard TimeParsing.isNumberLiteral(s), let ms = TimeParsing.epoch(literal: s, unit: unit) else {
                return bad(value, "an epoch time")
            }
            return .success(ms)
        case (.auto, .string(let s)):
            if let ms = iso(s) { return .success(ms) }
            if TimeParsing.isNumberLiteral(s), let ms = TimeParsing.epoch(literal: s, unit: nil) { return .success(ms) }
            return bad(value, "an ISO 8601 time or an epoch number")
        case (.iso8601, .string(let s)):
            return iso(s).map { .success($0) } ?? bad(value, "an ISO 8601 time")
        case (.pattern(let p), .string(let s)):
            return p.parse(s).map { .success($0) } ?? bad(value, "a time like \"\(p.pattern)\"")
        case (.iso8601, _), (.pattern, _):
            return .failure(ValueProblem("expected a string, found \(value.typeDescription)"))
        default:
            return .failure(ValueProblem("expected a time, found \(value.typeDescription)"))
        }
    }

    private func iso(_ s: String) -> Int64? {
        guard let parsed = ISO8601.parse(s) else { return nil }
        return millis(parsed)
    }

    /// Epoch milliseconds of a parsed ISO 8601 value: its offset, else the rule's zone, else UTC.
    func millis(_ parsed: ISO8601.Parsed) -> Int64? {
        if let utc = parsed.utcMillis { return TimeParsing.inRange(utc) }
        guard let zone else { return TimeParsing.inRange(parsed.wallMillis) }
        // Local wall-clock time: find the zone's offset at that instant (two steps settle DST edges).
        var guess = parsed.wallMillis
        for _ in 0..<2 {
            let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(guess) / 1000))
            guess = parsed.wallMillis - Int64(offset) * 1000
        }
        return TimeParsing.inRange(guess)
    }

    private func bad(_ value: JSONValue, _ expected: String) -> Result<Int64, ValueProblem> {
        .failure(ValueProblem("expected \(expected), found \(ValueProblem.show(value))"))
    }
}

/// What was wrong with a value found in a record, phrased for a dead-letter reason.
struct ValueProblem: Error, Sendable {
    var message: String
    init(_ message: String) { self.message = message }

    /// A short rendering of a found value: strings and numbers quoted and cut, containers by type.
    static func show(_ value: JSONValue) -> String {
        switch value {
        case .string(let s):
            let cut =
                s.unicodeScalars.count > 40 ? String(String.UnicodeScalarView(s.unicodeScalars.prefix(40))) + "…" : s
            return JSONValue.string(cut).serialized
        case .number(let n): return n.literal.count > 40 ? String(n.literal.prefix(40)) + "…" : n.literal
        case .bool(let b): return b ? "true" : "false"
        default: return value.typeDescription
        }
    }
}
