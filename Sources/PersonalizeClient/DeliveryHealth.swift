import Foundation
import Synchronization

/// Whether requests are getting through: the time of the last answer from the service and, while every attempt
/// since then failed (throttled, unavailable, no connection), when the failing began. Updated on every attempt, so
/// an outage shows while requests are still being retried, not only when they give up.
public final class DeliveryHealth: Sendable {
    public struct Snapshot: Sendable, Equatable {
        /// Wall-clock seconds of the last accepted request.
        public var lastSuccess: Double?
        /// Wall-clock seconds of the first failed attempt since the last success.
        public var failingSince: Double?
    }

    private let state = Mutex(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    func succeeded(at time: Double = Date().timeIntervalSince1970) {
        state.withLock { s in
            s.lastSuccess = time
            s.failingSince = nil
        }
    }

    /// The service answered (a refusal of the content): it is reachable, though nothing was delivered.
    func answered() {
        state.withLock { $0.failingSince = nil }
    }

    func failed(at time: Double = Date().timeIntervalSince1970) {
        state.withLock { s in
            if s.failingSince == nil { s.failingSince = time }
        }
    }
}
