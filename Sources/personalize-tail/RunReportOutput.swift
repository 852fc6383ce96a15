import AgentConfig
import Foundation
import JSON
import Pipeline

/// The end of a catch-up run: the summary table for people, and `--report FILE` as JSON for wrappers.
enum RunReportOutput {
    static func table(_ report: RunReport) -> String {
        let s = report.stats
        var rows: [(String, String)] = [
            ("files", "\(s.filesOpened)"),
            ("lines read", "\(s.linesRead)"),
            ("records sent", "\(s.recordsSent)"),
            ("skipped (no mapping)", "\(s.skipped)"),
        ]
        if s.outsideTimeRange > 0 { rows.append(("outside --since/--until", "\(s.outsideTimeRange)")) }
        rows.append(("dead-lettered", "\(s.deadLetteredTotal)"))
        for (reason, count) in s.deadLettered.sorted(by: { $0.key < $1.key }) {
            rows.append(("  \(reason)", "\(count)"))
        }
        rows += [
            ("requests", "\(s.requests)"),
            ("retries", "\(s.retries)"),
            ("throttles", "\(s.throttles)"),
        ]
        if s.connectionErrors > 0 { rows.append(("connection errors", "\(s.connectionErrors)")) }
        if s.unresolved > 0 { rows.append(("unresolved (sent next time)", "\(s.unresolved)")) }
        if let reason = s.stopReason { rows.append(("stopped", reason)) }
        if let error = s.lastError { rows.append(("last error", error)) }
        rows += [
            ("duration", String(format: "%.1f s", report.seconds)),
            ("outcome", "\(outcomeName(report)) (exit \(report.exitStatus.rawValue))"),
        ]
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(
            separator: "\n")
    }

    static func outcomeName(_ report: RunReport) -> String {
        switch report.exitStatus {
        case .delivered: "delivered"
        case .deadLettered: "delivered, some dead-lettered"
        case .incomplete: "incomplete"
        case .configuration: "stopped: configuration or permission error"
        case .locked: "locked"
        case .internalError: "internal error"
        }
    }

    static func json(_ report: RunReport, dryRun: Bool) -> JSONValue {
        let s = report.stats
        var object = JSONObject()
        object["outcome"] = .string(outcomeName(report))
        object["exitCode"] = .number(JSONNumber(Int(report.exitStatus.rawValue)))
        if case .fatal(let message) = report.outcome { object["error"] = .string(message) }
        object["dryRun"] = .bool(dryRun)
        object["durationSeconds"] = .number(JSONNumber((report.seconds * 1000).rounded() / 1000))
        object["files"] = .number(JSONNumber(s.filesOpened))
        object["bytesRead"] = .number(JSONNumber(Int(s.bytesRead)))
        object["linesRead"] = .number(JSONNumber(s.linesRead))
        object["emptyLines"] = .number(JSONNumber(s.emptyLines))
        object["recordsMapped"] = .number(JSONNumber(s.recordsMapped))
        object["recordsSent"] = .number(JSONNumber(s.recordsSent))
        object["skipped"] = .number(JSONNumber(s.skipped))
        object["outsideTimeRange"] = .number(JSONNumber(s.outsideTimeRange))
        object["deadLettered"] = .number(JSONNumber(s.deadLetteredTotal))
        object["deadLetteredByReason"] = .object(
            JSONObject(
                s.deadLettered.sorted { $0.key < $1.key }.map {
                    JSONObject.Member(key: $0.key, value: .number(JSONNumber($0.value)))
                }))
        object["unresolved"] = .number(JSONNumber(s.unresolved))
        object["requests"] = .number(JSONNumber(s.requests))
        object["retries"] = .number(JSONNumber(s.retries))
        object["throttles"] = .number(JSONNumber(s.throttles))
        object["connectionErrors"] = .number(JSONNumber(s.connectionErrors))
        if let reason = s.stopReason { object["stopReason"] = .string(reason) }
        if let error = s.lastError { object["lastError"] = .string(error) }
        return .object(object)
    }

    /// The report of a run that stopped before it began (configuration error: 2, lock held: 5), so that a wrapper
    /// never reads a stale report of an earlier run.
    static func startupJSON(status: ExitStatus, error: String, dryRun: Bool) -> JSONValue {
        var object = JSONObject()
        object["outcome"] = .string(
            status == .locked
                ? "locked" : status == .configuration ? "stopped: configuration or permission error" : "internal error")
        object["exitCode"] = .number(JSONNumber(Int(status.rawValue)))
        object["error"] = .string(error)
        object["dryRun"] = .bool(dryRun)
        for key in [
            "files", "linesRead", "recordsSent", "deadLettered", "unresolved", "requests", "retries", "throttles",
        ] {
            object[key] = .number(JSONNumber(0))
        }
        return .object(object)
    }
}
