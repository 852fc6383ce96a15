import Foundation
import Logging

enum LogFormat: String, Sendable, CaseIterable {
    case text, json
}

/// Writes log lines to standard error, as text (`2026-11-26T17:00:00.000Z info message key=value`) or as one
/// JSON object per line for log collectors. Standard output stays free for `--dry-run` requests.
struct StderrLogHandler: LogHandler {
    let label: String
    let format: LogFormat
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, format: LogFormat) {
        self.label = label
        self.format = format
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        let time = Self.timestamp()
        var line: String
        switch format {
        case .text:
            line = "\(time) \(event.level) \(event.message)"
            for (key, value) in all.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(Self.quote("\(value)"))" }
        case .json:
            line = Self.jsonLine(time: time, level: event.level, message: "\(event.message)", metadata: all)
        }
        // Through the status line: a progress bar on screen is cleared first and drawn again below.
        StatusLine.shared.write(line + "\n")
    }

    /// One JSON log line (without its newline): time, level, message, then the metadata sorted by key. Commands
    /// without a logger write theirs with it too (``CommonOptions/report(_:_:)``).
    static func jsonLine(
        time: String = timestamp(), level: Logger.Level, message: String, metadata: Logger.Metadata = [:]
    ) -> String {
        var line =
            "{\"time\":\(jsonString(time)),\"level\":\(jsonString("\(level)")),\"message\":\(jsonString(message))"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line += ",\(jsonString(key)):\(json(value))"
        }
        return line + "}"
    }

    /// A metadata value as JSON, typed: numbers and booleans (however they were logged: `"\(count)"` is the usual
    /// form) are written bare, lists and dictionaries as arrays and objects, everything else as a string.
    static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let s): return typed(s)
        case .stringConvertible(let v):
            if let b = v as? Bool { return b ? "true" : "false" }
            return typed(v.description)
        case .array(let items): return "[" + items.map(json).joined(separator: ",") + "]"
        case .dictionary(let d):
            return "{"
                + d.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(json($0.value))" }.joined(separator: ",")
                + "}"
        }
    }

    /// `s` bare when it is a JSON number (at most 15 significant digits, so it reads back exactly) or a boolean.
    static func typed(_ s: String) -> String {
        if s == "true" || s == "false" { return s }
        let bytes = Array(s.utf8)
        guard !bytes.isEmpty, bytes.count <= 17 else { return jsonString(s) }
        var i = 0
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        let digitsStart = i
        while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 { i += 1 }
        let intDigits = i - digitsStart
        guard intDigits > 0, !(intDigits > 1 && bytes[digitsStart] == 48) else { return jsonString(s) }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            let fraction = i
            while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 { i += 1 }
            guard i > fraction else { return jsonString(s) }
        }
        return i == bytes.count ? s : jsonString(s)
    }

    static func quote(_ s: String) -> String {
        s.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) ? jsonString(s) : s
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func timestamp() -> String {
        let now = Date().timeIntervalSince1970
        var t = time_t(now)
        var parts = tm()
        gmtime_r(&t, &parts)
        let ms = Int((now - Double(Int(now))) * 1000)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1,
            parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, ms)
    }
}
