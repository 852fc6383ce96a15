import AWSSigV4
import Foundation
import Synchronization
import Testing

@testable import PersonalizeClient

/// Hands out a new set on every call, each living `lifetime` seconds from the test's clock.
final class ShortLivedProvider: CredentialProvider {
    let lifetime: TimeInterval
    let clock: Mutex<Date>
    let calls = Atomic<Int>(0)

    init(lifetime: TimeInterval, start: Date) {
        self.lifetime = lifetime
        self.clock = Mutex(start)
    }

    func credentials() async throws -> AWSCredentials {
        let call = calls.add(1, ordering: .relaxed).newValue
        return AWSCredentials(
            accessKeyId: "KEY\(call)", secretAccessKey: "secret-\(call)-abcdefgh",
            sessionToken: "token-\(call)-abcdefgh",
            expiration: clock.withLock { $0 }.addingTimeInterval(lifetime))
    }
}

@Suite struct CredentialCacheTests {
    /// The client's cache used to treat a set with under five minutes to live as stale and ask the provider on every
    /// request: a 75-second set meant a provider call per request. Now it asks after half of what was left.
    @Test func shortLivedSetIsServedFromTheCache() async throws {
        let start = Date()
        let provider = ShortLivedProvider(lifetime: 75, start: start)
        let cache = CredentialCache(provider: provider)
        var served = 0
        for i in 0..<1000 {
            let now = start.addingTimeInterval(Double(i) * 0.001)
            if cache.cachedIfFresh(now: now) != nil { served += 1 } else { _ = try await cache.current(now: now) }
        }
        #expect(provider.calls.load(ordering: .relaxed) == 1)
        #expect(served == 999)
    }

    @Test func askAgainAfterHalfOfWhatIsLeft() {
        let now = Date()
        func set(_ seconds: TimeInterval?) -> AWSCredentials {
            AWSCredentials(
                accessKeyId: "a", secretAccessKey: "b", expiration: seconds.map { now.addingTimeInterval($0) })
        }
        #expect(CredentialCache.nextAsk(set(nil), received: now) == .distantFuture)
        #expect(CredentialCache.nextAsk(set(75), received: now) == now.addingTimeInterval(37.5))
        #expect(CredentialCache.nextAsk(set(1.5), received: now) == now.addingTimeInterval(1))
        #expect(CredentialCache.nextAsk(set(0.5), received: now) == now.addingTimeInterval(0.5))
        #expect(CredentialCache.nextAsk(set(-1), received: now) == .distantPast)
    }

    @Test func knownSecretsCoverCurrentAndPreviousSet() async throws {
        let provider = ShortLivedProvider(lifetime: 75, start: Date())
        let cache = CredentialCache(provider: provider)
        _ = try await cache.current()
        await cache.invalidate()
        _ = try await cache.current()
        #expect(
            Set(cache.knownSecrets()) == [
                "secret-1-abcdefgh", "token-1-abcdefgh", "secret-2-abcdefgh", "token-2-abcdefgh",
            ])
    }
}
