import AWSSigV4
import Foundation
import Synchronization

/// Holds the current credentials so signing does not ask the provider on every request, and knows the secret
/// values in use so service messages can be scrubbed of them.
///
/// Refresh timing belongs to the provider (the agent's is a `RefreshingCredentialProvider`, which refreshes in the
/// background, with windows proportional to a set's lifetime): this cache only asks it again after half of what
/// was left of the set when it arrived (at least a second apart), so even a 75-second set is served from here for
/// nearly all requests, and the provider sees its refresh point in time. Concurrent callers may ask together;
/// the provider shares one fetch among them.
final class CredentialCache: Sendable {
    private struct State {
        var current: AWSCredentials?
        /// The set before the current one: requests signed with it may still be answered.
        var previous: AWSCredentials?
        /// Served without asking the provider until then.
        var freshUntil: Date = .distantPast
    }

    private let provider: any CredentialProvider
    private let state = Mutex(State())

    init(provider: any CredentialProvider) {
        self.provider = provider
    }

    func current(now: Date = Date()) async throws -> AWSCredentials {
        if let cached = cachedIfFresh(now: now) { return cached }
        let fresh = try await provider.credentials()
        let received = now
        state.withLock { s in
            if s.current != fresh {
                s.previous = s.current
                s.current = fresh
            }
            s.freshUntil = Self.nextAsk(fresh, received: received)
        }
        return fresh
    }

    /// The cached credentials when the provider need not be asked now (no waiting, no provider call).
    func cachedIfFresh(now: Date = Date()) -> AWSCredentials? {
        state.withLock { s in
            guard let cached = s.current, now < s.freshUntil else { return nil }
            return cached
        }
    }

    /// The secret keys and session tokens of the current and the previous set: removed from service messages
    /// wherever they appear (``ServiceError/decode(status:headers:body:knownSecrets:)``).
    func knownSecrets() -> [String] {
        state.withLock { s in
            [s.current, s.previous].compactMap { $0 }.flatMap {
                [$0.secretAccessKey] + ($0.sessionToken.map { [$0] } ?? [])
            }
        }
    }

    func invalidate() async {
        state.withLock { $0.freshUntil = .distantPast }
        await provider.invalidate()
    }

    /// Long-term keys are kept until invalidated; a set with an expiry is served for half of what was left of
    /// it (at least a second, never past the expiry).
    static func nextAsk(_ credentials: AWSCredentials, received: Date) -> Date {
        guard let expiration = credentials.expiration else { return .distantFuture }
        let left = expiration.timeIntervalSince(received)
        guard left > 0 else { return .distantPast }
        return received.addingTimeInterval(min(left, max(left / 2, 1)))
    }
}
