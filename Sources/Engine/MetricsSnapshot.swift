import Synchronization

/// What the agent is doing, as of the engine's last step: the numbers behind `/metrics`, `/health`, the progress
/// display and the catch-up report. The engine publishes a fresh copy a few times a second; readers never touch the
/// engine's own state.
public struct MetricsSnapshot: Sendable {
    public struct FileState: Sendable {
        public var path: String
        public var source: String
        /// Decompressed offset up to which every line is resolved.
        public var offset: UInt64
        /// Bytes of the file read so far (compressed bytes for gzip).
        public var bytesRead: UInt64
        /// The file's size (compressed for gzip).
        public var size: UInt64
        public var compressed: Bool
        /// Size minus bytes read: how far behind the reader is.
        public var lag: UInt64 { size > bytesRead ? size - bytesRead : 0 }
    }

    public var stats = RunStats()
    /// Records batched or in flight.
    public var pendingRecords = 0
    public var inFlightRequests = 0
    /// Requests by operation and outcome (`PutEvents`/`accepted`, `PutItems`/`rejected`, ...).
    public var requestsByOutcome: [String: [String: Int]] = [:]
    /// Histogram of records per request (index = batch size 1...10).
    public var batchSizes = [Int](repeating: 0, count: 11)
    /// Request latency: counts per bucket of `DeliveryHealth.latencyBounds` (last: over the largest) and the sum.
    public var latency: (buckets: [Int], sum: Double)?
    public var files: [FileState] = []
    /// Files the checkpoint table remembers (read now, read before, or copies of those).
    public var checkpointEntries = 0
    /// The file being read most recently (progress display).
    public var currentFile: String?
    /// Seconds since the Unix epoch of the last acknowledged request; nil before the first.
    public var lastDeliveryTime: Double?
    /// Seconds since the Unix epoch when delivery started failing (a retryable error with no success since).
    public var failingSince: Double?
    /// Configured and able to sign: credentials were obtained at start-up.
    public var ready = false
    public var stopping = false
    /// Set when the agent stopped on a fatal answer.
    public var fatal: String?

    public init() {}
}

/// The shared, lock-protected latest snapshot.
public final class MetricsBox: Sendable {
    private let state = Mutex(MetricsSnapshot())

    public init() {}

    public var snapshot: MetricsSnapshot { state.withLock { $0 } }

    public func update(_ body: (inout MetricsSnapshot) -> Void) {
        state.withLock { body(&$0) }
    }
}
