import Foundation
import PersonalizeClient
import PersonalizeModel
import Synchronization
import TestSupport
import Testing

/// The adaptive limiter inside the client, against the stand-in with throttling injected: a catch-up of 10,000
/// events (1,000 PutEvents of 10) by eight concurrent senders, as the agent's batch sender sends them.
///
/// Figures are ratios measured in one run (throughput against the quota, throttled share, adaptive against not
/// adaptive in alternating runs), so a loaded machine slows both sides alike; the only time bounds are generous
/// deadlines. The pure figures, independent of the machine, are in `AdaptiveRateOracleTests`.
// Serialized: the figures are throughput ratios within one test; the other test's 8 senders running at the same
// time would take a varying share of the CPU from one side of a ratio only.
@Suite(.serialized) struct AdaptiveRateStandInTests {
    struct CatchUp {
        var seconds: Double
        var attempts: Int
        var throttles: Int
    }

    static func catchUp(_ standIn: PersonalizeStandIn, adaptive: Bool, requests: Int = 1000) async throws -> CatchUp {
        var limits = RateLimits.serviceQuotas
        limits.adaptive = adaptive
        return try await catchUp(standIn, limits: limits, requests: requests)
    }

    static func catchUp(_ standIn: PersonalizeStandIn, limits: RateLimits, requests: Int) async throws -> CatchUp {
        let client = PersonalizeEventsClient(
            configuration: .init(
                endpoint: Endpoint(url: standIn.endpoint)!, region: "us-east-1", requestTimeout: .seconds(30),
                rateLimits: limits),
            credentials: ClientTests.credentials,
            transport: try NIOHTTPTransport(
                endpoint: Endpoint(url: standIn.endpoint)!, configuration: .init(connectTimeout: .seconds(30))),
            logger: ClientTests.logger)
        let next = Counter()
        let start = ContinuousClock.now
        let totals = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var attempts = 0
                    var throttles = 0
                    while let n = next.take(below: requests) {
                        let body = ClientTests.events((0..<10).map { "e\(n)-\($0)" })
                        let result = await client.send(body, destination: "t-1")
                        guard case .accepted = result.outcome else { throw CancellationError() }
                        attempts += result.attempts
                        throttles += result.throttles
                    }
                    return (attempts, throttles)
                }
            }
            return try await group.reduce(into: (0, 0)) {
                $0.0 += $1.0
                $0.1 += $1.1
            }
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        try await client.shutdown()
        return CatchUp(seconds: seconds, attempts: totals.0, throttles: totals.1)
    }

    /// 30 % of requests throttled at random: adaptive mode finishes in a time comparable to no adaptation, and the
    /// rate never settles near its floor (which would take minutes).
    @Test
    func randomThrottlingCatchUpIsComparableToNotAdaptive() async throws {
        let standIn = try await PersonalizeStandIn.start(.init(recordBodies: false))
        var adaptive: [Double] = []
        var plain: [Double] = []
        for round in 0..<2 {
            standIn.setFaults(Faults(throttleFraction: 0.3, seed: UInt64(round + 1)))
            plain.append(try await Self.catchUp(standIn, adaptive: false).seconds)
            standIn.setFaults(Faults(throttleFraction: 0.3, seed: UInt64(round + 11)))
            adaptive.append(try await Self.catchUp(standIn, adaptive: true).seconds)
        }
        let ratio = adaptive.reduce(0, +) / plain.reduce(0, +)
        #expect(ratio < 2.5, "adaptive \(adaptive) s against not adaptive \(plain) s")
        #expect(standIn.stats.acceptedRecords == 40_000)
        try await standIn.shutdown()
    }

    /// A real quota (a token bucket of 80 requests/s at the stand-in, throttling beyond it): default settings use
    /// most of what a client told the quota uses (a fixed 80/s, no adaptation), with at most 5 % of requests
    /// throttled. The two alternate, twice, so that a loaded machine slows both alike. The share passed 0.85 in
    /// every CI run; at a load of 10 on 2 cores it was 0.83 once, so the bound is 0.7: what it catches is an
    /// adaptation that settles far below the quota (a rate stuck near its floor uses a few per cent of it).
    @Test func realQuotaIsUsedWithFewThrottles() async throws {
        let standIn = try await PersonalizeStandIn.start(.init(recordBodies: false))
        var told = RateLimits.serviceQuotas
        told.perOperation[.putEvents] = 80
        told.adaptive = false
        told.burstSeconds = 0
        var adaptiveSeconds = 0.0
        var toldSeconds = 0.0
        for _ in 0..<2 {
            standIn.setFaults(Faults(quotaPerSecond: 80, quotaBurst: 8))
            toldSeconds += try await Self.catchUp(standIn, limits: told, requests: 500).seconds
            standIn.reset()
            standIn.setFaults(Faults(quotaPerSecond: 80, quotaBurst: 8))
            adaptiveSeconds += try await Self.catchUp(standIn, adaptive: true, requests: 500).seconds
            let stats = standIn.stats
            #expect(stats.accepted == 500)
            let throttled = Double(stats.throttled) / Double(stats.requests)
            #expect(throttled <= 0.05, "\(stats.throttled) of \(stats.requests) requests throttled")
            standIn.reset()
        }
        // Used share of the quota, relative: the same 1,000 requests took the told client toldSeconds.
        let relative = toldSeconds / adaptiveSeconds
        #expect(relative >= 0.7, "adaptive took \(adaptiveSeconds) s, the client told the quota \(toldSeconds) s")
        try await standIn.shutdown()
    }
}

/// Hands out 0, 1, 2, ... to concurrent senders.
final class Counter: Sendable {
    private let value = Mutex(0)

    func take(below limit: Int) -> Int? {
        value.withLock { v in
            guard v < limit else { return nil }
            defer { v += 1 }
            return v
        }
    }
}
