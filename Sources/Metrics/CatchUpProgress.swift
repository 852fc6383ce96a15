import Engine

/// How far a catch-up run is, counted in records resolved (acknowledged by the service or dead-lettered), not in
/// bytes read: reading runs ahead of delivery by up to `maxPendingRecords` records, so a count of bytes reaches 100 %
/// while thousands of records are still unanswered.
///
/// The number of records still to come is unknown until everything is read; it is estimated from the records the
/// bytes read so far held (records read ÷ the fraction of bytes read). The fraction done is resolved ÷ that
/// estimate, so it stays below 100 % while any record read is unresolved or any byte is unread.
public struct CatchUpProgress: Sendable, Equatable {
    /// Records acknowledged or dead-lettered after mapping.
    public var resolved: Int
    /// Records read and mapped (within `--since` / `--until`).
    public var read: Int
    /// Estimated records in the whole run.
    public var estimatedTotal: Int
    /// 0…1.
    public var fraction: Double
    public var bytesRead: UInt64
    public var bytesPlanned: UInt64
    /// Seconds left at the resolving rate so far; `nil` while nothing is resolved yet, 0 when done.
    public var etaSeconds: Double?

    public init(_ m: MetricsSnapshot, elapsedSeconds: Double) {
        let stats = m.stats
        bytesRead = stats.bytesRead
        bytesPlanned = max(stats.bytesPlanned, stats.bytesRead)
        read = stats.recordsMapped
        resolved = max(0, min(read, read - m.pendingRecords))
        let byteFraction = bytesPlanned > 0 ? Double(bytesRead) / Double(bytesPlanned) : (read > 0 ? 1 : 0)
        if read == 0 {
            // Nothing to deliver yet (or only lines that are skipped or dead-lettered): bytes are all there is.
            estimatedTotal = 0
            fraction = byteFraction >= 1 && m.pendingRecords == 0 ? 1 : min(byteFraction, 0.999)
        } else {
            estimatedTotal = byteFraction > 0 ? max(read, Int((Double(read) / byteFraction).rounded())) : read
            fraction = Double(resolved) / Double(max(estimatedTotal, 1))
            if resolved < read || bytesRead < bytesPlanned { fraction = min(fraction, 0.999) }
        }
        let remaining = max(0, estimatedTotal - resolved)
        if fraction >= 1 {
            etaSeconds = 0
        } else if resolved > 0, elapsedSeconds > 0 {
            etaSeconds = Double(remaining) / (Double(resolved) / elapsedSeconds)
        } else {
            etaSeconds = nil
        }
    }
}
