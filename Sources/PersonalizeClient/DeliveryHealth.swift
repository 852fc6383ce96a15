import Foundation
import Synchronization

/// Whether requests are getting through: the time of the last answer from the service and, while every attempt
/// since then failed (throttled, unavailable, no connection), when the failing began. Updated on every attempt, so
/// an outage shows while requests are still being retried, not only when they give up.
///
/// It also counts attempts as they happen (by operation and outcome, retries, throttles, connection errors), keeps
/// the last error, and the latency of each exchange: `/metrics`, the progress line, the summary and the report read
/// these, so that an outage shows in them while the retries go on.
public final class DeliveryHealth: Sendable {
    public struct Snapshot: Sendable, Equatable {
        /// Wall-clock seconds of the last accepted request.
        public var lastSuccess: Double?
        /// Wall-clock seconds of the first failed attempt since the last success.
        public var failingSince: Double?
        /// Attempts by operation and outcome (`accepted`, `rejected`, `throttled`, `failed`, `connection_error`).
        public var attempts: [String: [String: Int]] = [:]
        /// Attempts after the first of a request.
        public var retries = 0
        public var throttles = 0
        public var connectionErrors = 0
        /// The last failed attempt's cause (status, error code, message as the service gave it).
        public var lastError: String?
        /// Wall-clock seconds of ``lastError``.
        public var lastErrorTime: Double?
        /// Exchange latencies: counts per bucket of ``DeliveryHealth/latencyBounds`` (last = over the largest).
        public var latencyBuckets = [Int](repeating: 0, count: DeliveryHealth.latencyBounds.count + 1)
        public var latencySum = 0.0

        /// All attempts made.
        public var totalAttempts: Int { attempts.values.reduce(0) { $0 + $1.values.reduce(0, +) } }
    }

    /// Upper bounds (seconds) of the request latency histogram's buckets.
    public static let latencyBounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    /// How an attempt ended, as `/metrics` labels it.
    public enum AttemptOutcome: String, Sendable, CaseIterable {
        case accepted, rejected, throttled, failed
        case connectionError = "connection_error"
    }

    private struct State {
        var snapshot = Snapshot()
        var lastWarning: Double?
        var suppressed = 0
    }

    private let state = Mutex(State())
    /// At most one delivery warning per this many seconds (the others are counted and reported with the next).
    public let warningInterval: Double

    public init(warningInterval: Double = 10) {
        self.warningInterval = warningInterval
    }

    public var snapshot: Snapshot { state.withLock { $0.snapshot } }

    /// Marks a success; returns how long delivery had been failing (seconds), when it had.
    @discardableResult
    func succeeded(at time: Double = Date().timeIntervalSince1970) -> Double? {
        state.withLock { s in
            let since = s.snapshot.failingSince
            s.snapshot.lastSuccess = time
            s.snapshot.failingSince = nil
            return since.map { time - $0 }
        }
    }

    /// The service answered (a refusal of the content): it is reachable, though nothing was delivered.
    func answered() {
        state.withLock { $0.snapshot.failingSince = nil }
    }

    func failed(at time: Double = Date().timeIntervalSince1970) {
        state.withLock { s in
            if s.snapshot.failingSince == nil { s.snapshot.failingSince = time }
        }
    }

    /// Counts one attempt (number `attempt` of its request) and, for a failure, remembers its cause.
    func record(
        _ operation: String, _ outcome: AttemptOutcome, attempt: Int, error: String? = nil, latency: Double? = nil,
        at time: Double = Date().timeIntervalSince1970
    ) {
        state.withLock { s in
            s.snapshot.attempts[operation, default: [:]][outcome.rawValue, default: 0] += 1
            if attempt > 1 { s.snapshot.retries += 1 }
            if outcome == .throttled { s.snapshot.throttles += 1 }
            if outcome == .connectionError { s.snapshot.connectionErrors += 1 }
            if let error {
                s.snapshot.lastError = error
                s.snapshot.lastErrorTime = time
            }
            if let latency {
                let bucket = Self.latencyBounds.firstIndex { latency <= $0 } ?? Self.latencyBounds.count
                s.snapshot.latencyBuckets[bucket] += 1
                s.snapshot.latencySum += latency
            }
        }
    }

    /// Whether a delivery warning may be logged now; when it may, also how many were held back since the last.
    func warningDue(at time: Double = Date().timeIntervalSince1970) -> Int? {
        state.withLock { s in
            if let last = s.lastWarning, time - last < warningInterval {
                s.suppressed += 1
                return nil
            }
            s.lastWarning = time
            defer { s.suppressed = 0 }
            return s.suppressed
        }
    }
}
