import Engine
import Foundation
import Logging
import Metrics
import Pipeline

/// Catch-up progress on stderr: a live bar on a terminal (records resolved of the estimated total, records/s, ETA,
/// bytes read, current file), otherwise a plain line every ten seconds, for cron mail and journald. Progress is
/// counted in records resolved (``CatchUpProgress``), so it reaches 100 % only when everything read is delivered.
/// With `--log-format json` the plain lines are JSON log lines (message `progress: …`), as every other stderr line.
struct ProgressReporter: Sendable {
    let control: AgentControl
    let interactive: Bool
    let json: Bool

    init(control: AgentControl, format: LogFormat) {
        self.control = control
        interactive = isatty(STDERR_FILENO) == 1
        json = format == .json
    }

    func run() async {
        let started = ContinuousClock.now
        let interval: Duration = interactive ? .milliseconds(250) : .seconds(10)
        var lastLine = ""
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { break }
            let line = Self.line(
                control.metrics.snapshot, elapsed: started.duration(to: .now), width: interactive ? 100 : 0)
            guard line != lastLine else { continue }
            lastLine = line
            if interactive {
                StatusLine.shared.show(line)
            } else {
                StatusLine.shared.write((json ? StderrLogHandler.jsonLine(level: .info, message: line) : line) + "\n")
            }
        }
        if interactive { StatusLine.shared.clear() }
    }

    static func line(_ m: MetricsSnapshot, elapsed: Duration, width: Int) -> String {
        let seconds = max(0.001, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        let p = CatchUpProgress(m, elapsedSeconds: seconds)
        let rate = Double(m.stats.recordsSent) / seconds
        var text = ""
        if width > 0 {
            let cells = 24
            let filled = min(cells, Int(p.fraction * Double(cells)))
            text += "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: cells - filled) + "] "
        } else {
            text += "progress: "
        }
        // Rounded down: 99.9 % is not shown as 100 %.
        text += String(
            format: "%3d%% %d/~%d records (%@/%@ read) %.0f records/s sent=%d dead_lettered=%d",
            Int(p.fraction * 100), p.resolved, p.estimatedTotal, bytes(p.bytesRead), bytes(p.bytesPlanned),
            rate, m.stats.recordsSent, m.stats.deadLetteredTotal)
        text += " ETA " + (p.etaSeconds.map { $0 > 0 ? clock($0) : "0:00" } ?? "--")
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
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
