/// Counters of one run, for the closing summary, the report and the metrics.
public struct RunStats: Sendable, Equatable {
    public var filesOpened = 0
    public var linesRead = 0
    public var emptyLines = 0
    public var bytesRead: UInt64 = 0
    public var recordsMapped = 0
    public var recordsSent = 0
    public var skipped = 0
    /// Records left out by `--since` / `--until`.
    public var outsideTimeRange = 0
    /// Bytes the catch-up run found to read when it started (for progress and ETA).
    public var bytesPlanned: UInt64 = 0
    public var deadLettered: [String: Int] = [:]
    public var requests = 0
    public var retries = 0
    public var throttles = 0
    /// Checkpoint entries of files no longer listed that were let go (`state.forgetMissingFilesAfterSeconds`).
    public var checkpointsForgotten = 0
    /// Records read but not resolved when the run ended (read again next time).
    public var unresolved = 0
    /// Attempts that found no connection (refused, reset, timed out).
    public var connectionErrors = 0
    /// The last failed attempt's cause.
    public var lastError: String?
    /// Why a run stopped before everything was delivered (signal, `--max-duration`, no acknowledgement in time).
    public var stopReason: String?

    public init() {}

    public var deadLetteredTotal: Int { deadLettered.values.reduce(0, +) }

    /// One line for the end of a catch-up run.
    public var summaryLine: String {
        let reasons = deadLettered.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        return "files=\(filesOpened) read=\(linesRead) sent=\(recordsSent) dead_lettered=\(deadLetteredTotal)"
            + (reasons.isEmpty ? "" : " (\(reasons))")
            + " skipped=\(skipped)" + (outsideTimeRange > 0 ? " outside_time_range=\(outsideTimeRange)" : "")
            + " requests=\(requests) retries=\(retries) throttles=\(throttles)"
            + (connectionErrors > 0 ? " connection_errors=\(connectionErrors)" : "")
            + (unresolved > 0 ? " unresolved=\(unresolved)" : "")
            + (stopReason.map { " stopped=\"\($0)\"" } ?? "")
            + (lastError.map { " last_error=\"\($0)\"" } ?? "")
    }
}
