import AWSSigV4
import Foundation
import Synchronization

/// Holds the current credentials and asks the provider again shortly before they expire, or when the service says
/// they are no longer good. Concurrent callers share one refresh.
final class CredentialCache: Sendable {
    private let provider: any CredentialProvider
    /// Refresh this long before `expiration`.
    private let refreshMargin: TimeInterval
    private let state = Mutex<AWSCredentials?>(nil)

    init(provider: any CredentialProvider, refreshMargin: TimeInterval = 300) {
        self.provider = provider
        self.refreshMargin = refreshMargin
    }

    func current(now: Date = Date()) async throws -> AWSCredentials {
        if let cached = state.withLock({ $0 }), !needsRefresh(cached, now: now) { return cached }
        let fresh = try await provider.credentials()
        state.withLock { $0 = fresh }
        return fresh
    }

    /// The cached credentials when they need no refresh now (no waiting, no provider call).
    func cachedIfFresh(now: Date = Date()) -> AWSCredentials? {
        guard let cached = state.withLock({ $0 }), !needsRefresh(cached, now: now) else { return nil }
        return cached
    }

    func invalidate() async {
        state.withLock { $0 = nil }
        await provider.invalidate()
    }

    private func needsRefresh(_ credentials: AWSCredentials, now: Date) -> Bool {
        guard let expiration = credentials.expiration else { return false }
        return expiration.timeIntervalSince(now) < refreshMargin
    }
}
