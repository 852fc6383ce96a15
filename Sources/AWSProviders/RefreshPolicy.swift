import AWSSigV4
import Foundation

/// When cached credentials may be used and when they must be replaced.
///
/// Long-lived sets follow botocore (a background refresh from 15 minutes before expiry, callers wait from 10
/// minutes before). A short-lived set gets windows proportional to its lifetime instead, so a 75-second set is
/// used for most of its life rather than fetched again for every request: the refresh starts with a quarter of
/// the lifetime left (plus up to a fifth more, drawn at random so many agents do not refresh in step), and
/// callers wait only in the last sixth (an hour-long set: botocore's 15 and 10 minutes). Pure: the caller supplies
/// the time and the random draw.
public struct RefreshPolicy: Sendable, Equatable {
    /// At most this many seconds before expiry a background refresh starts (botocore: 15 minutes).
    public var advisorySeconds: TimeInterval
    /// At most this many seconds before expiry callers wait for fresh credentials (botocore: 10 minutes).
    public var mandatorySeconds: TimeInterval
    /// The advisory window as a fraction of the set's lifetime, when that is shorter.
    public var advisoryFraction: Double
    /// The mandatory window as a fraction of the set's lifetime, when that is shorter.
    public var mandatoryFraction: Double
    /// The advisory window grows by up to this fraction of itself, drawn per set.
    public var jitterFraction: Double

    public init(
        advisorySeconds: TimeInterval = 15 * 60, mandatorySeconds: TimeInterval = 10 * 60,
        advisoryFraction: Double = 0.25, mandatoryFraction: Double = 1.0 / 6, jitterFraction: Double = 0.2
    ) {
        self.advisorySeconds = max(advisorySeconds, mandatorySeconds)
        self.mandatorySeconds = mandatorySeconds
        self.advisoryFraction = max(advisoryFraction, mandatoryFraction)
        self.mandatoryFraction = mandatoryFraction
        self.jitterFraction = jitterFraction
    }

    /// When a set fetched at `fetchedAt` is to be refreshed; both `nil` for a set without an expiration.
    public struct Schedule: Sendable, Equatable {
        /// From here on, a background refresh starts (callers keep the cached set).
        public var refreshAt: Date?
        /// From here on, callers wait for fresh credentials (unless fetching fails and the set is still valid).
        public var mandatoryAt: Date?
        public var expiration: Date?
    }

    /// The windows of `credentials`, fetched at `fetchedAt`, with `random` in `0..<1` for the jitter.
    public func schedule(for credentials: AWSCredentials, fetchedAt: Date, random: Double) -> Schedule {
        guard let expiration = credentials.expiration else { return Schedule() }
        let lifetime = max(0, expiration.timeIntervalSince(fetchedAt))
        let mandatory = min(mandatorySeconds, lifetime * mandatoryFraction)
        var advisory = max(mandatory, min(advisorySeconds, lifetime * advisoryFraction))
        advisory = min(lifetime, advisory * (1 + jitterFraction * min(max(random, 0), 1)))
        return Schedule(
            refreshAt: expiration.addingTimeInterval(-advisory), mandatoryAt: expiration.addingTimeInterval(-mandatory),
            expiration: expiration)
    }

    public enum Decision: Sendable, Equatable {
        /// Use the cached credentials.
        case useCached
        /// Use the cached credentials, and start a refresh if none is running.
        case useCachedAndRefresh
        /// Wait for fresh credentials.
        case refresh
    }

    /// What to do at `now` with a set scheduled as `schedule` (`nil`: nothing cached).
    public func decide(_ schedule: Schedule?, now: Date) -> Decision {
        guard let schedule else { return .refresh }
        if let mandatoryAt = schedule.mandatoryAt, now >= mandatoryAt { return .refresh }
        if let refreshAt = schedule.refreshAt, now >= refreshAt { return .useCachedAndRefresh }
        return .useCached
    }
}
