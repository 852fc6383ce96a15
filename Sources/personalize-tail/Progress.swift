import Foundation
import Pipeline

/// Catch-up progress on stderr: a live bar on a terminal (bytes done of total, records/s, ETA, current file),
/// otherwise a plain line every ten seconds, for cron mail and journald.
struct ProgressReporter: Sendable {
    let control: AgentControl
    let interactive: Bool

    init(control: AgentControl) {
        self.control = control
        interactive = isatty(STDERR_FILENO) == 1
    }

    func run() async {
        let started = ContinuousClock.now
        let interval: Duration = interactive ? .milliseconds(250) : .seconds(10)
        var lastLine = ""
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { break }
            let line = Self.line(control.metrics.snapshot, elapsed: started.duration(to: .now), width: interactive ? 100 : 0)
            guard line != lastLine else { continue }
            lastLine = line
            let text = interactive ? "\r\u{1B}[2K" + line : line + "\n"
            FileHandle.standardError.write(Data(text.utf8))
        }
        if interactive && !lastLine.isEmpty { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
    }

    static func line(_ m: MetricsSnapshot, elapsed: Duration, width: Int) -> String {
        let seconds = max(0.001, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        let done = m.stats.bytesRead
        let total = max(m.stats.bytesPlanned, done)
        let fraction = total > 0 ? Double(done) / Double(total) : 0
        let rate = Double(m.stats.recordsSent) / seconds
        let byteRate = Double(done) / seconds
        let eta = byteRate > 0 && total > done ? Double(total - done) / byteRate : 0
        var text = ""
        if width > 0 {
            let cells = 24
            let filled = Int(fraction * Double(cells))
            text += "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: cells - filled) + "] "
        } else {
            text += "progress: "
        }
        text += String(format: "%3.0f%% %@/%@ %.0f records/s sent=%d dead_lettered=%d", fraction * 100,
                       bytes(done), bytes(total), rate, m.stats.recordsSent, m.stats.deadLetteredTotal)
        text += " ETA " + (eta > 0 ? clock(eta) : "--")
        if let file = m.currentFile {
            let name = (file as NSString).lastPathComponent
            text += " " + (width > 0 && name.count > 30 ? "…" + name.suffix(29) : name)
        }
        // While delivery fails, the cause (the bar otherwise looks done with nothing sent).
        if m.failingSince != nil, let error = m.stats.lastError {
            text += " | retrying: " + (width > 0 && error.count > 60 ? String(error.prefix(59)) + "…" : error)
        }
        return text
    }

    static func bytes(_ n: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(n)B" : String(format: "%.1f%@", value, units[unit])
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds)
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
