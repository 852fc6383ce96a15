import Foundation

/// Whether exported interactions meet Amazon Personalize's training requirements, gathered row by row as the export
/// writes them: at least 1,000 interactions and at least 25 users with at least 2 interactions each, plus what a data
/// scientist checks before paying for an import (time span, event types, coverage by the items and users files,
/// interactions per user and per item, metadata fill rates, suspicious timestamps).
///
/// Memory is bounded: at most ``maxTrackedIds`` distinct users and items are counted (the report says when the
/// limit was reached; the thresholds are decided long before it).
public struct TrainingReadiness: Sendable {
    public static let minInteractions = 1_000
    public static let minActiveUsers = 25
    public static let maxTrackedIds = 1_000_000
    /// 2000-01-01T00:00:00Z: earlier timestamps are almost always a mapping mistake.
    static let year2000: Int64 = 946_684_800
    /// Larger TIMESTAMP values are milliseconds taken for seconds (year 5138 and later).
    static let millisecondsThreshold: Int64 = 100_000_000_000

    public private(set) var interactions = 0
    var perUser: [String: Int32] = [:]
    var perItem: [String: Int32] = [:]
    var usersOverflow = false
    var itemsOverflow = false
    var eventTypes: [String: Int] = [:]
    var catalogItems: Set<String> = []
    var catalogUsers: Set<String> = []
    var firstTime: Int64?
    var lastTime: Int64?
    var before2000 = 0
    var inFuture = 0
    var milliseconds = 0
    /// Non-empty values per metadata column, by kind: kind -> (column -> count), and rows per kind.
    var filled: [String: [String: Int]] = [:]
    var rowsByKind: [String: Int] = [:]
    let now: Int64

    public init(now: Date = Date()) {
        self.now = Int64(now.timeIntervalSince1970)
    }

    /// Notes one row as written: `fixed` leading columns are the kind's own, the rest metadata.
    public mutating func note(kind: String, columns: [String], fields: [String], fixed: Int) {
        rowsByKind[kind, default: 0] += 1
        if columns.count > fixed {
            var byColumn = filled[kind] ?? [:]
            for i in fixed..<min(columns.count, fields.count) where !fields[i].isEmpty {
                byColumn[columns[i], default: 0] += 1
            }
            for i in fixed..<columns.count where byColumn[columns[i]] == nil { byColumn[columns[i]] = 0 }
            filled[kind] = byColumn
        }
        switch kind {
        case "interactions":
            guard fields.count >= 4 else { return }
            interactions += 1
            count(fields[0], in: &perUser, overflow: &usersOverflow)
            count(fields[1], in: &perItem, overflow: &itemsOverflow)
            eventTypes[fields[3], default: 0] += 1
            if let t = Int64(fields[2]) {
                firstTime = min(firstTime ?? t, t)
                lastTime = max(lastTime ?? t, t)
                if t < Self.year2000 { before2000 += 1 }
                if t >= Self.millisecondsThreshold { milliseconds += 1 } else if t > now + 86_400 { inFuture += 1 }
            }
        case "items":
            if let id = fields.first, catalogItems.count < Self.maxTrackedIds { catalogItems.insert(id) }
        case "users":
            if let id = fields.first, catalogUsers.count < Self.maxTrackedIds { catalogUsers.insert(id) }
        default:
            break
        }
    }

    private func count(_ id: String, in table: inout [String: Int32], overflow: inout Bool) {
        if let n = table[id] {
            table[id] = n &+ 1
        } else if table.count < Self.maxTrackedIds {
            table[id] = 1
        } else {
            overflow = true
        }
    }

    /// Users with at least 2 interactions.
    public var activeUsers: Int { perUser.values.reduce(0) { $0 + ($1 >= 2 ? 1 : 0) } }

    /// Whether the interactions meet both of Personalize's minimums.
    public var meetsMinimums: Bool { interactions >= Self.minInteractions && activeUsers >= Self.minActiveUsers }

    /// What a data scientist would want to know before an import.
    public var warnings: [String] {
        var out: [String] = []
        if interactions > 0, eventTypes.count == 1 {
            out.append(
                "only one event type (\(eventTypes.keys.first!)): recipes that filter or weight by event type have nothing to choose from"
            )
        }
        if milliseconds > 0 {
            out.append(
                "\(milliseconds) interaction(s) have TIMESTAMP values of 100,000,000,000 or more: milliseconds taken for seconds? (give the mapping's sentAt \"format\": \"epochMillis\")"
            )
        }
        if inFuture > 0 { out.append("\(inFuture) interaction(s) are more than a day in the future") }
        if before2000 > 0 { out.append("\(before2000) interaction(s) are before 2000-01-01") }
        if usersOverflow {
            out.append(
                "over \(Self.maxTrackedIds) distinct users: per-user figures count the first \(Self.maxTrackedIds)")
        }
        if itemsOverflow {
            out.append(
                "over \(Self.maxTrackedIds) distinct items: per-item figures count the first \(Self.maxTrackedIds)")
        }
        return out
    }

    /// The report, as lines of text.
    public func report() -> [String] {
        func n(_ v: Int) -> String { v.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US"))) }
        func pct(_ a: Int, _ b: Int) -> String { b == 0 ? "-" : String(format: "%.1f%%", Double(a) * 100 / Double(b)) }
        var lines: [String] = []
        let active = activeUsers
        lines.append("training readiness: \(meetsMinimums ? "meets" : "DOES NOT meet") Amazon Personalize's minimums")
        lines.append(
            "  interactions: \(n(interactions)) (at least \(n(Self.minInteractions)) needed)\(interactions >= Self.minInteractions ? "" : "  << too few")"
        )
        lines.append(
            "  users with 2+ interactions: \(n(active)) of \(n(perUser.count)) (at least \(Self.minActiveUsers) needed)\(active >= Self.minActiveUsers ? "" : "  << too few")"
        )
        if let firstTime, let lastTime {
            let days = Double(lastTime - firstTime) / 86_400
            lines.append(
                "  time span: \(ExportTime.iso(.init(epochSeconds: firstTime))) .. \(ExportTime.iso(.init(epochSeconds: lastTime))) (\(String(format: "%.1f", days)) days)"
            )
        }
        for (type, count) in eventTypes.sorted(by: { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) })
        {
            lines.append("  event type \(type): \(n(count)) (\(pct(count, interactions)))")
        }
        if !catalogItems.isEmpty {
            let covered = perItem.reduce(0) { $0 + (catalogItems.contains($1.key) ? Int($1.value) : 0) }
            lines.append(
                "  interactions whose item is in the items file: \(pct(covered, interactions)) (\(n(perItem.count)) distinct items, \(n(catalogItems.count)) in the items file)"
            )
        }
        if !catalogUsers.isEmpty {
            let covered = perUser.reduce(0) { $0 + (catalogUsers.contains($1.key) ? Int($1.value) : 0) }
            lines.append(
                "  interactions whose user is in the users file: \(pct(covered, interactions)) (\(n(perUser.count)) distinct users, \(n(catalogUsers.count)) in the users file)"
            )
        }
        lines += Self.histogram("interactions per user", perUser)
        lines += Self.histogram("interactions per item", perItem)
        for (kind, columns) in filled.sorted(by: { $0.key < $1.key }) {
            let rows = rowsByKind[kind] ?? 0
            let text = columns.sorted(by: { $0.key < $1.key }).map { "\($0.key) \(pct($0.value, rows))" }.joined(
                separator: ", ")
            lines.append("  \(kind) metadata filled: \(text)")
        }
        for w in warnings { lines.append("  warning: \(w)") }
        return lines
    }

    static let buckets: [(String, ClosedRange<Int32>)] = [
        ("1", 1...1), ("2-4", 2...4), ("5-9", 5...9), ("10-99", 10...99), ("100-999", 100...999),
        ("1000+", 1000...Int32.max),
    ]

    /// A small text histogram of the counts: one line per bucket, a bar scaled to the largest bucket.
    static func histogram(_ title: String, _ table: [String: Int32]) -> [String] {
        guard !table.isEmpty else { return [] }
        var counts = [Int](repeating: 0, count: buckets.count)
        for v in table.values {
            if let i = buckets.firstIndex(where: { $0.1.contains(v) }) { counts[i] += 1 }
        }
        let top = max(counts.max() ?? 1, 1)
        var lines = ["  \(title):"]
        for (i, b) in buckets.enumerated() {
            let bar = String(repeating: "#", count: counts[i] == 0 ? 0 : max(1, counts[i] * 30 / top))
            lines.append(
                "    \(b.0.padding(toLength: 8, withPad: " ", startingAt: 0)) \(String(counts[i]).padding(toLength: 9, withPad: " ", startingAt: 0)) \(bar)"
            )
        }
        return lines
    }
}
