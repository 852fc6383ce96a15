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
            var object: [(String, String)] = [("time", time), ("level", "\(event.level)"), ("message", "\(event.message)")]
            for (key, value) in all.sorted(by: { $0.key < $1.key }) { object.append((key, "\(value)")) }
            line = "{" + object.map { "\(Self.jsonString($0.0)):\(Self.jsonString($0.1))" }.joined(separator: ",") + "}"
        }
        // Through the status line: a progress bar on screen is cleared first and drawn again below.
        StatusLine.shared.write(line + "\n")
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
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
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
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1,
                      parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, ms)
    }
}
