import Engine
import Foundation
import JSON

extension StatusReport {
    /// The table `personalize-tail status` prints.
    public var table: String {
        var out = "checkpoints: \(checkpointsPath) (\(files.count) file\(files.count == 1 ? "" : "s"))\n"
        if !files.isEmpty {
            var rows: [[String]] = [["PATH", "OFFSET", "SIZE", "BEHIND", "LAST UPDATE"]]
            for f in files {
                // OFFSET and SIZE in the same unit: a gzip file's offset counts decompressed bytes, so it is shown
                // in the state column instead ("partial, 1.2 MiB decompressed read").
                let offset = f.compressed ? "-" : Self.size(f.offset)
                let state =
                    f.behind.map(Self.size)
                    ?? (f.compressed && f.behindText == "partial"
                        ? "partial, \(Self.size(f.offset)) decompressed read" : f.behindText)
                rows.append([f.path, offset, Self.size(f.size), state, lastUpdate(f.updatedAt)])
            }
            var widths = [Int](repeating: 0, count: 5)
            for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
            for row in rows {
                var line = ""
                for (i, cell) in row.enumerated() {
                    let pad = String(repeating: " ", count: widths[i] - cell.count)
                    switch i {
                    case 0: line += cell + pad
                    case 4: line += "  " + cell
                    default: line += "  " + pad + cell
                    }
                }
                out += line + "\n"
            }
            let behind = files.compactMap(\.behind).reduce(0, +)
            out += "behind: \(Self.size(behind)) (\(behind) bytes) in plain files\n"
        }
        out += "agent: " + (agentPid.map { "running (pid \($0))" } ?? "not running") + "\n"
        if deadLetter.exists {
            out +=
                "dead letters: \(deadLetter.path) (\(deadLetter.size) bytes, \(deadLetter.lines) line"
                + "\(deadLetter.lines == 1 ? "" : "s"))\n"
        } else {
            out += "dead letters: \(deadLetter.path) (none yet)\n"
        }
        return out
    }

    /// The same, as one JSON object (`status --json`).
    public var json: String {
        var w = JSONWriter(capacity: 512 + files.count * 256)
        w.raw("{\"checkpoints\":")
        w.string(checkpointsPath)
        w.key("files", comma: true)
        w.raw("[")
        for (i, f) in files.enumerated() {
            if i > 0 { w.raw(",") }
            w.raw("{\"path\":")
            w.string(f.path)
            w.key("offset", comma: true)
            w.number(Int64(f.offset))
            w.key("size", comma: true)
            w.number(Int64(f.size))
            w.key("compressed", comma: true)
            w.raw(f.compressed ? "true" : "false")
            w.key("behind", comma: true)
            if let behind = f.behind { w.number(Int64(behind)) } else { w.raw("null") }
            w.key("state", comma: true)
            w.string(f.behindText)
            w.key("updatedAt", comma: true)
            if f.updatedAt > 0 { w.string(Self.iso8601(f.updatedAt)) } else { w.raw("null") }
            w.key("updatedSecondsAgo", comma: true)
            w.number(max(0, now - f.updatedAt) / 1000)
            w.raw("}")
        }
        w.raw("]")
        w.key("agentPid", comma: true)
        if let agentPid { w.number(Int64(agentPid)) } else { w.raw("null") }
        w.key("deadLetter", comma: true)
        w.raw("{\"path\":")
        w.string(deadLetter.path)
        w.key("exists", comma: true)
        w.raw(deadLetter.exists ? "true" : "false")
        w.key("size", comma: true)
        w.number(Int64(deadLetter.size))
        w.key("lines", comma: true)
        w.number(Int64(deadLetter.lines))
        w.raw("}}")
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// `512 B`, `1.2 KiB`, `3.4 MiB`, `5.6 GiB`.
    static func size(_ n: UInt64) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB"]
        guard n >= 1024 else { return "\(n) B" }
        var value = Double(n) / 1024
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return String(format: "%.1f %@", value, units[unit])
    }

    /// `2025-01-02T03:04:05Z (12s ago)`.
    func lastUpdate(_ ms: Int64) -> String {
        guard ms > 0 else { return "-" }
        return "\(Self.iso8601(ms)) (\(Self.ago(max(0, now - ms) / 1000)))"
    }

    /// Seconds precision; the checkpoint's milliseconds are noise here.
    static func iso8601(_ ms: Int64) -> String {
        let full = DeadLetter.iso8601(Date(timeIntervalSince1970: Double(ms) / 1000))
        return String(full.prefix(19)) + "Z"
    }

    static func ago(_ seconds: Int64) -> String {
        switch seconds {
        case ..<120: "\(seconds)s ago"
        case ..<7200: "\(seconds / 60)m ago"
        case ..<172_800: "\(seconds / 3600)h ago"
        default: "\(seconds / 86400)d ago"
        }
    }
}
