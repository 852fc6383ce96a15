import AWSSigV4
import Foundation
import Logging
import PersonalizeClient
import PersonalizeModel
import TestSupport
import Testing

/// The adaptive rate as a pure state machine: time is whatever the test says it is.
@Suite struct AdaptiveRateTests {
    @Test func configuredRateHoldsUntilThrottled() {
        var rate = AdaptiveRate(maxRate: 100, now: 0)
        #expect(rate.rate(at: 0) == 100)
        for i in 0..<1000 { rate.succeeded(now: Double(i) * 0.01, sentAt: Double(i) * 0.01) }
        #expect(rate.rate(at: 1000) == 100)
        #expect(rate.lastThrottle == nil)
    }

    @Test func permitsAreSpacedByTheRateAfterTheBurst() {
        var rate = AdaptiveRate(maxRate: 10, burst: 3, now: 0)
        let times = (0..<6).map { _ in rate.reserve(now: 0) }
        // three at once, then one every 100 ms
        #expect(times[0] == 0 && times[1] == 0 && times[2] == 0)
        #expect(abs(times[3] - 0.1) < 1e-9)
        #expect(abs(times[4] - 0.2) < 1e-9)
        #expect(abs(times[5] - 0.3) < 1e-9)
        // after a quiet spell the burst is available again, but never more
        let later = (0..<4).map { _ in rate.reserve(now: 10) }
        #expect(later[0] == 10 && later[1] == 10 && later[2] == 10)
        #expect(abs(later[3] - 10.1) < 1e-9)
    }

    @Test func throttlingMultipliesByPointSevenAndSuccessesFollowTheCubic() {
        var rate = AdaptiveRate(maxRate: 100, now: 0)
        // answers at 200/s (twice the measured rate caps the recovery: far above here)
        for i in 1...1000 { rate.succeeded(now: Double(i) * 0.005, sentAt: Double(i) * 0.005) }
        let first = rate.throttled(now: 5, sentAt: 5)
        #expect(first)
        #expect(abs(rate.rate(at: 5) - 70) < 1e-9)
        // held until the decrease is judged (answers sent from 5.25 s on, 40 of them over 0.25 s: at 5.5 s), then
        // one second of successes later: C·(1 − K)³ + 100 ≈ 86.7
        var t = 5.0
        for i in 1...300 {
            t = 5 + Double(i) * 0.005
            rate.succeeded(now: t, sentAt: t)
            if t < 5.49 { #expect(abs(rate.rate(at: t) - 70) < 1e-9, "held at \(t)") }
        }
        let k = cbrt(100 * 0.3 / 0.4)
        #expect(abs(rate.rate(at: t) - (0.4 * pow(t - 5.5 - k, 3) + 100)) < 0.05)
    }

    @Test func throttlesOfRequestsSentBeforeTheDecreaseCountOnce() {
        var rate = AdaptiveRate(maxRate: 100, now: 0)
        let lowered = rate.throttled(now: 5, sentAt: 4.99)
        #expect(lowered)
        // 31 other requests that were in flight at the old rate are throttled too: no further decrease
        for _ in 0..<31 {
            let again = rate.throttled(now: 5.01, sentAt: 4.995)
            #expect(!again)
        }
        #expect(abs(rate.rate(at: 5.01) - 70) < 1e-9)
    }

    @Test func recoveryFollowsTheCubicCurveBackToTheConfiguredRate() {
        var rate = AdaptiveRate(maxRate: 100, now: 0)
        var t = 0.0
        // answers at 200/s: the measured rate (twice of it caps the recovery) is far above the configured rate
        while t < 10 {
            t += 0.005
            rate.succeeded(now: t, sentAt: t)
        }
        rate.throttled(now: t, sentAt: t)
        let throttledAt = t
        let k = cbrt(100 * 0.3 / 0.4)  // seconds until the plateau at the old rate
        var previous = rate.rate(at: t)
        #expect(abs(previous - 70) < 1e-9)
        var atHalfK = 0.0
        while t < throttledAt + k + 30 {
            t += 0.005
            rate.succeeded(now: t, sentAt: t)
            let r = rate.rate(at: t)
            #expect(r >= previous - 1e-9, "never decreases while recovering")
            // held for half a second, until the decrease is judged
            if atHalfK == 0, t >= throttledAt + 0.5 + k / 2 { atHalfK = r }
            previous = r
        }
        #expect(atHalfK > 70 + 30 * 0.8, "most of the way back half of K after the judgement (\(atHalfK))")
        #expect(rate.rate(at: t) == 100, "capped at the configured rate")
    }

    @Test func decreaseStartsFromWhatTheServiceAccepted() {
        // Sending 400/s against a quota of 80/s: the first decrease goes to 0.7 × the accepted rate at once.
        var rate = AdaptiveRate(maxRate: 1000, minimumRate: 10, now: 0)
        var t = 0.0
        var sent = 0
        while t < 3 {
            t += 1.0 / 400
            sent += 1
            if sent % 5 == 0 { rate.succeeded(now: t, sentAt: t) } else { _ = rate.throttled(now: t, sentAt: t) }
            if rate.lastThrottle != nil { break }
        }
        #expect(rate.rate(at: t) <= 1000 * 0.7)
        // (before the first half-second bucket there is no measurement: the first step is from the bucket's rate)
        while t < 3 {
            t += 1.0 / 400
            sent += 1
            if sent % 5 == 0 { rate.succeeded(now: t, sentAt: t) } else { _ = rate.throttled(now: t, sentAt: t) }
        }
        #expect(rate.rate(at: t) < 80, "\(rate.rate(at: t))")
    }

    @Test func throttlingNeverGoesBelowTheFloor() {
        var rate = AdaptiveRate(maxRate: 10, minimumRate: 0.5, now: 0)
        var t = 0.0
        for _ in 0..<400 {
            t += 0.05
            rate.throttled(now: t, sentAt: t)
        }
        #expect(rate.rate(at: t) == 0.5)
        // the permits follow the floor: one every two seconds
        let first = rate.reserve(now: t)
        let second = rate.reserve(now: t)
        #expect(second - first >= 1.99)
    }

    @Test func floorIsNeverAboveTheConfiguredRate() {
        var rate = AdaptiveRate(maxRate: 0.2, minimumRate: 0.5, now: 0)
        rate.throttled(now: 1, sentAt: 1)
        #expect(rate.rate(at: 1) == 0.2)
    }

    @Test func notAdaptiveIgnoresThrottling() {
        var rate = AdaptiveRate(maxRate: 10, adaptive: false, now: 0)
        let lowered = rate.throttled(now: 1, sentAt: 1)
        #expect(!lowered)
        #expect(rate.rate(at: 1) == 10)
    }

    @Test func refundGivesBackTheLastPermitOnly() {
        var rate = AdaptiveRate(maxRate: 10, now: 0)
        _ = rate.reserve(now: 0)
        let t1 = rate.earliest(now: 0)
        let a1 = rate.commit(at: t1, now: 0)
        let t2 = rate.earliest(now: 0)
        let a2 = rate.commit(at: t2, now: 0)
        rate.refund(time: t1, arrivalAfter: a1)  // not the last one: kept
        #expect(rate.theoreticalArrival == a2)
        rate.refund(time: t2, arrivalAfter: a2)
        #expect(abs(rate.earliest(now: 0) - t2) < 1e-9)
    }

    @Test func idleSpellDoesNotCountAsASlowRate() {
        var rate = AdaptiveRate(maxRate: 100, minimumRate: 10, now: 0)
        var t = 0.0
        for _ in 0..<200 {
            t += 0.01
            rate.succeeded(now: t, sentAt: t)
        }
        t += 600  // ten idle minutes, then a burst that is throttled
        for _ in 0..<3 {
            t += 0.01
            rate.succeeded(now: t, sentAt: t)
        }
        rate.throttled(now: t, sentAt: t)
        #expect(rate.rate(at: t) > 50, "\(rate.rate(at: t))")
    }

    @Test func defaultsAreTheServiceQuotas() {
        let limits = RateLimits.serviceQuotas
        #expect(limits.rate(for: .putEvents) == 0, "PutEvents: no limit until the service throttles")
        #expect(limits.rate(for: .putItems) == 10)
        #expect(limits.rate(for: .putUsers) == 10)
        #expect(limits.maxRequestsPerSecond == 0)
        #expect(limits.adaptive)
        #expect(limits.burst(for: 1000) == 100)
        #expect(limits.burst(for: 10) == 1)
        #expect(RateLimits.unlimited.rate(for: .putEvents) == 0)
    }

    @Test func recoveredRateIsReleased() {
        var rate = AdaptiveRate(maxRate: 100, now: 0)
        #expect(rate.hasRecovered(at: 0, for: 0))
        var t = 0.0
        while t < 10 {
            t += 0.005
            rate.succeeded(now: t, sentAt: t)
        }
        rate.throttled(now: 10, sentAt: 10, from: 50)
        #expect(!rate.hasRecovered(at: 11, for: 30))
        while t < 100 {
            t += 0.005
            rate.succeeded(now: t, sentAt: t)
        }
        #expect(rate.hasRecovered(at: t, for: 30))
        #expect(!rate.hasRecovered(at: t, for: 95))
    }
}

/// The limiter on a test clock: it sleeps in virtual time (``ManualClock``), so when each permit goes is exactly what
/// the rates say, whatever the machine's load.
@Suite struct RateLimiterTests {
    static func limiter(_ limits: RateLimits, clock: ManualClock = ManualClock(advancesWhenSleeping: true))
        -> RateLimiter
    {
        RateLimiter(limits: limits, clock: clock)
    }

    @Test func permitsAreSpacedByTheRate() async throws {
        let clock = ManualClock(advancesWhenSleeping: true)
        let limiter = Self.limiter(RateLimits(perOperation: [.putItems: 100], burstSeconds: 0), clock: clock)
        var times: [Double] = []
        for _ in 0..<20 { times.append(try await limiter.acquire(.putItems, destination: "arn:a").time) }
        for (i, time) in times.enumerated() { #expect(abs(time - Double(i) * 0.01) < 1e-9, "permit \(i) at \(time)") }
        #expect(abs(clock.seconds - 0.19) < 1e-9, "19 waits of 10 ms (\(clock.seconds))")
    }

    @Test func concurrentSendersShareTheRate() async throws {
        let clock = ManualClock(advancesWhenSleeping: true)
        let limiter = Self.limiter(RateLimits(perOperation: [.putItems: 100], burstSeconds: 0), clock: clock)
        let times = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<10 {
                group.addTask {
                    var times: [Double] = []
                    for _ in 0..<3 { times.append(try await limiter.acquire(.putItems, destination: "arn:a").time) }
                    return times
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        // 30 permits at 100/s, whatever the interleaving: one every 10 ms, none shared.
        let expected = (0..<30).map { Double($0) * 0.01 }
        #expect(zip(times.sorted(), expected).allSatisfy { abs($0 - $1) < 1e-9 }, "\(times.sorted())")
        #expect(abs(clock.seconds - 0.29) < 1e-9, "\(clock.seconds)")
    }

    @Test func destinationsAndOperationsAreLimitedSeparately() async throws {
        let clock = ManualClock(advancesWhenSleeping: true)
        let limiter = Self.limiter(
            RateLimits(perOperation: [.putItems: 2, .putUsers: 2], burstSeconds: 0), clock: clock)
        try await limiter.acquire(.putItems, destination: "arn:a")
        try await limiter.acquire(.putItems, destination: "arn:b")
        try await limiter.acquire(.putUsers, destination: "arn:a")
        try await limiter.acquire(.putEvents, destination: "arn:a")  // unlimited
        #expect(clock.sleeps == 0, "none of these had to wait for another")
        let next = try await limiter.acquire(.putItems, destination: "arn:a")
        #expect(abs(next.time - 0.5) < 1e-9)
        #expect(clock.sleeps == 1 && abs(clock.seconds - 0.5) < 1e-9)
    }

    @Test func globalCapLimitsEverything() async throws {
        let clock = ManualClock(advancesWhenSleeping: true)
        let limiter = Self.limiter(
            RateLimits(perOperation: [:], maxRequestsPerSecond: 50, burstSeconds: 0), clock: clock)
        for i in 0..<11 { try await limiter.acquire(i % 2 == 0 ? .putEvents : .putItems, destination: "d\(i)") }
        #expect(abs(clock.seconds - 0.2) < 1e-9, "ten waits of 20 ms across operations and destinations")
    }

    @Test func unlimitedNeverWaits() async throws {
        let clock = ManualClock(advancesWhenSleeping: true)
        let limiter = Self.limiter(.unlimited, clock: clock)
        for _ in 0..<10_000 { try await limiter.acquire(.putEvents, destination: "t") }
        #expect(clock.sleeps == 0)
        #expect(limiter.currentRate(for: .putEvents, destination: "t") == nil)
    }

    @Test func waitingIsCancellable() async throws {
        let clock = ManualClock()
        let limiter = Self.limiter(RateLimits(perOperation: [.putItems: 0.01], burstSeconds: 0), clock: clock)
        try await limiter.acquire(.putItems, destination: "a")  // the next slot is 100 s away
        let waiter = Task { try await limiter.acquire(.putItems, destination: "a") }
        let deadline = ContinuousClock.now + .seconds(60)
        while clock.sleepers == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
        #expect(clock.sleepers == 1, "the second acquire waits for its slot")
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(clock.seconds == 0, "ended by the cancellation, not by the next slot")
        // The cancelled permit was given back: the slot 100 s away is free again.
        clock.advance(by: .seconds(100))
        #expect(limiter.tryAcquireNow(.putItems, destination: "a") != nil)
    }

    @Test func unlimitedKeyGetsARateFromItsFirstThrottle() async throws {
        let clock = ManualClock()
        let limiter = Self.limiter(RateLimits(perOperation: [:], adaptive: true), clock: clock)
        #expect(limiter.currentRate(for: .putEvents, destination: "t") == nil)
        // 200 requests per second for 1.2 s, measured by the limiter.
        var last: RateLimiter.Permit?
        for _ in 0..<6 {
            for _ in 0..<40 { last = try await limiter.acquire(.putEvents, destination: "t") }
            clock.advance(by: .milliseconds(200))
        }
        limiter.throttled(.putEvents, destination: "t", permit: try #require(last))
        let rate = try #require(limiter.currentRate(for: .putEvents, destination: "t"), "limited after a throttle")
        #expect(rate > 0.6 * 200 && rate < 0.8 * 200, "about 0.7 x the 200/s that was sent (\(rate))")
        #expect(limiter.currentRate(for: .putEvents, destination: "other") == nil, "other destinations stay unlimited")
        #expect(limiter.tryAcquireNow(.putEvents, destination: "other") != nil)
    }

    @Test func unlimitedNotAdaptiveIgnoresThrottles() async throws {
        let limiter = RateLimiter(limits: RateLimits(perOperation: [:], adaptive: false))
        let permit = try await limiter.acquire(.putEvents, destination: "t")
        limiter.throttled(.putEvents, destination: "t", permit: permit)
        #expect(limiter.currentRate(for: .putEvents, destination: "t") == nil)
    }

    @Test func tryAcquireNowRefusesWhenTheNextSlotIsLater() {
        let limiter = RateLimiter(limits: RateLimits(perOperation: [.putItems: 1], burstSeconds: 0))
        #expect(limiter.tryAcquireNow(.putItems, destination: "a") != nil)
        #expect(limiter.tryAcquireNow(.putItems, destination: "a") == nil, "the next slot is a second away")
        #expect(limiter.tryAcquireNow(.putItems, destination: "b") != nil)
    }

    @Test func throttlingLowersTheKeysRateOnly() async throws {
        let limiter = RateLimiter(limits: RateLimits(perOperation: [.putItems: 10]))
        let permit = try await limiter.acquire(.putItems, destination: "a")
        try await limiter.acquire(.putItems, destination: "b")
        limiter.throttled(.putItems, destination: "a", permit: permit)
        #expect((limiter.currentRate(for: .putItems, destination: "a") ?? 0) < 7.5)
        #expect(limiter.currentRate(for: .putItems, destination: "b") == 10)
        #expect(limiter.currentRate(for: .putItems, destination: "never-used") == 10)
    }
}

/// The limiter inside the client, against the stand-in.
@Suite struct ClientRateTests {
    @Test func throttlingLowersTheClientsRate() async throws {
        let standIn = try await PersonalizeStandIn.start()
        standIn.setFaults(Faults(throttleFraction: 0.5))
        let client = PersonalizeEventsClient(
            configuration: .init(
                endpoint: Endpoint(url: standIn.endpoint)!, region: "us-east-1",
                retry: RetryPolicy(base: 0.001, cap: 0.01), requestTimeout: .seconds(5),
                rateLimits: RateLimits(perOperation: [.putEvents: 1000])),
            credentials: ClientTests.credentials, transport: ClientTests.transport(standIn), logger: ClientTests.logger)
        #expect(client.currentRate(for: .putEvents, destination: "t-1") == 1000)
        var throttles = 0
        for i in 0..<40 where throttles == 0 {
            let result = await client.send(ClientTests.events(["e\(i)"]), destination: "t-1")
            guard case .accepted = result.outcome else {
                Issue.record("\(result.outcome)")
                break
            }
            throttles += result.throttles
        }
        #expect(throttles > 0)
        let rate = try #require(client.currentRate(for: .putEvents, destination: "t-1"))
        #expect(rate < 750, "lowered by 0.7 per throttle, recovering slowly (\(rate))")
        #expect(client.currentRate(for: .putEvents, destination: "other") == 1000)
        try await client.shutdown()
        try await standIn.shutdown()
    }

    @Test func retriesGoThroughTheLimiter() async throws {
        let standIn = try await PersonalizeStandIn.start()
        standIn.setFaults(Faults(throttleNext: 3))
        let client = PersonalizeEventsClient(
            configuration: .init(
                endpoint: Endpoint(url: standIn.endpoint)!, region: "us-east-1",
                retry: RetryPolicy(base: 0.001, cap: 0.001), requestTimeout: .seconds(5),
                rateLimits: RateLimits(perOperation: [.putItems: 20, .putEvents: 20], adaptive: false, burstSeconds: 0)),
            credentials: ClientTests.credentials, transport: ClientTests.transport(standIn), logger: ClientTests.logger)
        let start = ContinuousClock.now
        let result = await client.send(ClientTests.events(["a"]), destination: "t-1")
        guard case .accepted = result.outcome else {
            Issue.record("\(result.outcome)")
            return
        }
        #expect(result.attempts == 4)
        // four attempts at 20/s: at least three intervals of 50 ms
        #expect(ContinuousClock.now - start >= .milliseconds(140))
        try await client.shutdown()
        try await standIn.shutdown()
    }
}
