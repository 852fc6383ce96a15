import AWSSigV4
import Foundation

/// When cached credentials may be used and when they must be replaced, as botocore decides it.
///
/// Pure, so the windows are tested without a clock or a network. Credentials without an expiration
/// never need refreshing.
public struct RefreshPolicy: Sendable, Equatable {
    /// Within this many seconds of expiry a refresh starts in the background (botocore: 15 minutes).
    public var advisorySeconds: TimeInterval
    /// Within this many seconds of expiry callers wait for fresh credentials (botocore: 10 minutes).
    public var mandatorySeconds: TimeInterval

    public init(advisorySeconds: TimeInterval = 15 * 60, mandatorySeconds: TimeInterval = 10 * 60) {
        self.advisorySeconds = max(advisorySeconds, mandatorySeconds)
        self.mandatorySeconds = mandatorySeconds
    }

    public enum Decision: Sendable, Equatable {
        /// Use the cached credentials.
        case useCached
        /// Use the cached credentials, and start a refresh if none is running.
        case useCachedAndRefresh
        /// Wait for fresh credentials.
        case refresh
    }

    public func decide(_ cached: AWSCredentials?, now: Date) -> Decision {
        guard let cached else { return .refresh }
        if cached.expires(within: mandatorySeconds, of: now) { return .refresh }
        if cached.expires(within: advisorySeconds, of: now) { return .useCachedAndRefresh }
        return .useCached
    }
}
