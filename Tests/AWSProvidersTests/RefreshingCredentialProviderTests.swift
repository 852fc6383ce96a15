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

/// Always hands out the same set, as instance metadata does until shortly before the set expires.
final class FixedProvider: CredentialProvider {
    let fixed: AWSCredentials
    let calls = Atomic<Int>(0)

    init(credentials: AWSCredentials) {
        self.fixed = credentials
    }

    func credentials() async throws -> AWSCredentials {
        calls.add(1, ordering: .relaxed)
        return fixed
    }
}

@Suite struct RefreshingCredentialProviderTests {
    @Test func policyWindows() {
        let policy = RefreshPolicy()
        let now = Date(timeIntervalSince1970: 0)
        func expiring(in seconds: TimeInterval) -> AWSCredentials {
            AWSCredentials(accessKeyId: "a", secretAccessKey: "b", expiration: now.addingTimeInterval(seconds))
        }
        func decide(lifetime: TimeInterval, after: TimeInterval, random: Double = 0) -> RefreshPolicy.Decision {
            policy.decide(
                policy.schedule(for: expiring(in: lifetime), fetchedAt: now, random: random),
                now: now.addingTimeInterval(after))
        }
        #expect(policy.decide(nil, now: now) == .refresh)
        let longTerm = policy.schedule(
            for: AWSCredentials(accessKeyId: "a", secretAccessKey: "b"), fetchedAt: now, random: 0)
        #expect(policy.decide(longTerm, now: now.addingTimeInterval(1e9)) == .useCached)
        // An hour: botocore's 15 and 10 minutes.
        #expect(decide(lifetime: 3600, after: 44 * 60) == .useCached)
        #expect(decide(lifetime: 3600, after: 46 * 60) == .useCachedAndRefresh)
        #expect(decide(lifetime: 3600, after: 51 * 60) == .refresh)
        // The jitter moves the refresh point earlier, by up to a fifth of the window.
        #expect(decide(lifetime: 3600, after: 43 * 60, random: 0.99) == .useCachedAndRefresh)
        #expect(decide(lifetime: 3600, after: 41 * 60, random: 0.99) == .useCached)
        // 75 seconds: refresh with a quarter left, wait only in the last sixth (the old fixed windows refreshed
        // such a set on every call).
        #expect(decide(lifetime: 75, after: 1) == .useCached)
        #expect(decide(lifetime: 75, after: 55) == .useCached)
        #expect(decide(lifetime: 75, after: 57) == .useCachedAndRefresh)
        #expect(decide(lifetime: 75, after: 68) == .refresh)
    }

    /// Calls every `lifetime / 300` seconds for eight lifetimes: each set is used until shortly before it expires,
    /// replaced in the background, and fetched about once per lifetime, whatever the lifetime.
    @Test(arguments: [75.0, 900.0, 3600.0] as [TimeInterval])
    func fetchesAboutOncePerLifetime(lifetime: TimeInterval) async throws {
        let clock = ManualClock()
        let base = CountingProvider(clock: clock, lifetime: lifetime)
        let provider = RefreshingCredentialProvider(
            wrapping: base, logger: testLogger, now: clock.now, random: { Double.random(in: 0..<1) })
        let step = lifetime / 300
        let steps = 8 * 300
        for _ in 0..<steps {
            clock.advance(step)
            let credentials = try await provider.credentials()
            let left = try #require(credentials.expiration).timeIntervalSince(clock.date)
            #expect(left > lifetime / 6 - step, "served a set in its last sixth (\(left) s left)")
            await provider.settle()
        }
        // Refreshes start with at most 30 % of the lifetime left (a quarter plus the jitter): at most one fetch per
        // 70 % of a lifetime, and at least one per lifetime.
        #expect(base.count >= 8, "\(base.count) fetches")
        #expect(base.count <= Int(8 / 0.7) + 1, "\(base.count) fetches")
    }

    @Test func failingRefreshOfShortLivedSetKeepsItAndDoesNotHammerTheSource() async throws {
        let clock = ManualClock()
        let base = CountingProvider(clock: clock, lifetime: 75)
        let provider = RefreshingCredentialProvider(wrapping: base, logger: testLogger, now: clock.now, random: { 0 })
        _ = try await provider.credentials()
        base.failing.store(true, ordering: .relaxed)
        // Every 50 ms until 0.1 s before expiry: every call is answered with the still-valid set.
        for _ in 0..<1498 {
            clock.advance(0.05)
            let key = try await provider.credentials().accessKeyId
            #expect(key == "KEY1")
            await provider.settle()
        }
        // Attempts are spaced by half of what is left (at most 30 s): a handful, not one per call.
        #expect(base.count > 2 && base.count <= 12, "\(base.count) calls to the source")
    }

    @Test func sourceHandingOutTheSameSetIsNotAskedOnEveryCall() async throws {
        let clock = ManualClock()
        let expiration = clock.date.addingTimeInterval(300)
        let base = FixedProvider(
            credentials: AWSCredentials(
                accessKeyId: "SAME", secretAccessKey: "s", sessionToken: "t", expiration: expiration))
        let provider = RefreshingCredentialProvider(wrapping: base, logger: testLogger, now: clock.now, random: { 0 })
        for _ in 0..<2990 {
            clock.advance(0.1)
            #expect(try await provider.credentials().accessKeyId == "SAME")
            await provider.settle()
        }
        let calls = base.calls.load(ordering: .relaxed)
        #expect(calls <= 16, "\(calls) calls")
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
        try await withServer(answering: answer) { server in
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

/// Polls `condition` until it holds, for up to a minute (a deadline for a stuck refresh, not a time bound).
func waitUntil(_ condition: @Sendable () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(60)
    while !condition(), ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(5))
    }
    #expect(condition())
}
