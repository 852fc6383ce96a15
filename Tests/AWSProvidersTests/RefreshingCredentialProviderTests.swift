import AWSSigV4
import Foundation
import Synchronization
import Testing

@testable import AWSProviders

/// Hands out numbered credentials expiring `lifetime` seconds after the clock's now; can be made to fail.
final class CountingProvider: CredentialProvider {
    let clock: ManualClock
    let lifetime: TimeInterval
    let calls = Atomic<Int>(0)
    let failing = Atomic<Bool>(false)

    init(clock: ManualClock, lifetime: TimeInterval = 3600) {
        self.clock = clock
        self.lifetime = lifetime
    }

    func credentials() async throws -> AWSCredentials {
        let call = calls.add(1, ordering: .relaxed).newValue
        if failing.load(ordering: .relaxed) { throw CancellationError() }
        return AWSCredentials(
            accessKeyId: "KEY\(call)", secretAccessKey: "s", sessionToken: "t",
            expiration: clock.date.addingTimeInterval(lifetime))
    }

    var count: Int { calls.load(ordering: .relaxed) }
}

@Suite struct RefreshingCredentialProviderTests {
    @Test func policyWindows() {
        let policy = RefreshPolicy()
        let now = Date(timeIntervalSince1970: 0)
        func expiring(in seconds: TimeInterval) -> AWSCredentials {
            AWSCredentials(accessKeyId: "a", secretAccessKey: "b", expiration: now.addingTimeInterval(seconds))
        }
        #expect(policy.decide(nil, now: now) == .refresh)
        #expect(policy.decide(AWSCredentials(accessKeyId: "a", secretAccessKey: "b"), now: now) == .useCached)
        #expect(policy.decide(expiring(in: 16 * 60), now: now) == .useCached)
        #expect(policy.decide(expiring(in: 14 * 60), now: now) == .useCachedAndRefresh)
        #expect(policy.decide(expiring(in: 9 * 60), now: now) == .refresh)
    }

    @Test func cachesThenRefreshesInTheBackgroundThenBlocks() async throws {
        let clock = ManualClock()
        let base = CountingProvider(clock: clock, lifetime: 3600)
        let provider = RefreshingCredentialProvider(wrapping: base, logger: testLogger, now: clock.now)
        let key1 = try await provider.credentials().accessKeyId
        #expect(key1 == "KEY1")
        clock.advance(30 * 60)
        let key2 = try await provider.credentials().accessKeyId
        #expect(key2 == "KEY1")
        #expect(base.count == 1)
        // Advisory window (14 minutes left): the cached credentials come back at once, a refresh starts.
        clock.advance(16 * 60)
        let key3 = try await provider.credentials().accessKeyId
        #expect(key3 == "KEY1")
        try await waitUntil { base.count == 2 }
        let key4 = try await provider.credentials().accessKeyId
        #expect(key4 == "KEY2")
        // Mandatory window (9 minutes left of KEY2): the caller waits for KEY3.
        clock.advance(51 * 60)
        let key5 = try await provider.credentials().accessKeyId
        #expect(key5 == "KEY3")
    }

    @Test func invalidateForcesARefresh() async throws {
        let clock = ManualClock()
        let base = CountingProvider(clock: clock)
        let provider = RefreshingCredentialProvider(wrapping: base, logger: testLogger, now: clock.now)
        _ = try await provider.credentials()
        await provider.invalidate()
        let key6 = try await provider.credentials().accessKeyId
        #expect(key6 == "KEY2")
    }

    @Test func failedRefreshKeepsStillValidCredentials() async throws {
        let clock = ManualClock()
        let base = CountingProvider(clock: clock)
        let provider = RefreshingCredentialProvider(wrapping: base, logger: testLogger, now: clock.now)
        _ = try await provider.credentials()
        base.failing.store(true, ordering: .relaxed)
        clock.advance(55 * 60)
        let key7 = try await provider.credentials().accessKeyId
        #expect(key7 == "KEY1")
        clock.advance(10 * 60)
        await #expect(throws: CancellationError.self) { try await provider.credentials() }
    }

    @Test func concurrentCallersShareOneRefresh() async throws {
        let answer = CannedResponse.ok(
            Fixtures.credentialsJSON(), delay: .milliseconds(200))
        try await withServer({ _ in answer }) { server in
            try await withHTTPClient { client in
                let provider = RefreshingCredentialProvider(
                    wrapping: ContainerCredentialProvider(
                        environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.endpoint + "/c"], httpClient: client,
                        logger: testLogger), logger: testLogger)
                let keys = try await withThrowingTaskGroup(of: String.self) { group in
                    for _ in 0..<20 { group.addTask { try await provider.credentials().accessKeyId } }
                    return try await group.reduce(into: [String]()) { $0.append($1) }
                }
                #expect(keys.count == 20 && Set(keys) == ["ASIACONTAINER"])
                #expect(server.hits == 1)
                await provider.invalidate()
                _ = try await provider.credentials()
                #expect(server.hits == 2)
            }
        }
    }
}

func waitUntil(_ condition: @Sendable () -> Bool) async throws {
    for _ in 0..<500 where !condition() {
        try await Task.sleep(for: .milliseconds(5))
    }
    #expect(condition())
}
