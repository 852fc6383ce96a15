import Foundation
import PersonalizeClient
import TestSupport
import Testing

/// ``AdaptiveRate`` against botocore's adaptive mode run as an oracle, and in closed-loop simulations (a client
/// with eight requests in flight, 20 ms per answer) against random throttling and a real quota: no clock, no I/O,
/// the same figures on a loaded machine as on an idle one.
@Suite struct AdaptiveRateOracleTests {
    /// `Fixtures/botocore-adaptive.json`, written by `Fixtures/botocore_adaptive_oracle.py` with botocore: for
    /// fixed answer sequences, the token bucket's fill rate and the measured rate after each answer.
    @Test func botocoreGuardsReproduceBotocore() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/botocore-adaptive.json")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let start = try #require(root["start"] as? Double)
        let scenarios = try #require(root["scenarios"] as? [String: [[Double]]])
        #expect(scenarios.count == 4)
        for (name, answers) in scenarios {
            var rate = AdaptiveRate(maxRate: .infinity, minimumRate: 0.5, guards: .botocore, now: start)
            var worst = 0.0
            for (index, answer) in answers.enumerated() {
                let (t, throttled, fill, measured) = (answer[0], answer[1] == 1, answer[2], answer[3])
                if throttled { rate.throttled(now: t, sentAt: t) } else { rate.succeeded(now: t, sentAt: t) }
                let error = max(
                    abs(rate.fillRate - fill) / max(fill, 1), abs(rate.measuredRate - measured) / max(measured, 1))
                worst = max(worst, error)
                if error > 1e-9 {
                    Issue.record(
                        "\(name)[\(index)] t=\(t): fill \(rate.fillRate) vs \(fill), measured \(rate.measuredRate) vs \(measured)"
                    )
                    break
                }
            }
            #expect(worst <= 1e-9, "\(name)")
        }
    }

    /// The defect: botocore's mode, under 30 % random throttling, falls to its floor; the agent's keeps the rate.
    @Test func randomThrottlingDoesNotCollapseTheRate() {
        var results: [Double] = []
        for seed in UInt64(1)...3 {
            var rng = SplitMix64(seed: seed)
            let agent = Simulation.run(
                AdaptiveRate(maxRate: 100, minimumRate: 10, now: 0), seconds: 120
            ) { _ in rng.chance(0.3) }
            results.append(agent.acceptedPerSecond)
            // Without throttling it would accept 100/s; with 30 % refused, at best 70/s.
            #expect(agent.acceptedPerSecond >= 0.8 * 70, "seed \(seed): \(agent)")
        }
        var rng = SplitMix64(seed: 1)
        let sdk = Simulation.run(
            AdaptiveRate(maxRate: 100, minimumRate: 10, guards: .botocore, now: 0), seconds: 120
        ) { _ in rng.chance(0.3) }
        #expect(sdk.acceptedPerSecond < 0.3 * 70, "the SDK's rule alone collapses to the floor: \(sdk)")
    }

    /// Against a token bucket of 80 requests/s: at least 85 % of the quota used, at most 5 % of requests throttled,
    /// starting far above it (the limiter makes an unlimited key's rate at its first throttle: twice what it sent).
    @Test(arguments: [(80.0, 8.0), (80, 80), (500, 50), (1000, 100)])
    func realQuotaIsUsedWithFewThrottles(quota: Double, burst: Double) {
        var bucket = QuotaBucket(rate: quota, burst: burst)
        // As the limiter makes it for an unlimited key first throttled while sending three times the quota.
        let sent = 3 * quota
        let result = Simulation.run(
            AdaptiveRate(maxRate: 2 * sent, burst: (sent * 0.1).rounded(.down), minimumRate: 1, now: 0), seconds: 120,
            inFlight: 32
        ) { t in !bucket.take(at: t) }
        #expect(result.acceptedPerSecond >= 0.85 * quota, "\(result)")
        #expect(result.throttledShare <= 0.05, "\(result)")
    }
}

/// A client with `inFlight` workers: each takes a permit, the answer comes `rtt` later, then the next.
enum Simulation {
    struct Result: CustomStringConvertible {
        var accepted = 0
        var throttled = 0
        var seconds: Double
        var acceptedPerSecond: Double { Double(accepted) / seconds }
        var throttledShare: Double { Double(throttled) / Double(max(1, accepted + throttled)) }
        var description: String {
            "accepted \(accepted) (\(Int(acceptedPerSecond))/s), throttled \(throttled) (\(Int(throttledShare * 1000)) ‰)"
        }
    }

    static func run(
        _ initial: AdaptiveRate, seconds: Double, inFlight: Int = 8, rtt: Double = 0.02,
        throttle: (Double) -> Bool
    ) -> Result {
        var rate = initial
        var result = Result(seconds: seconds)
        // (answer time, sent at, throttled) per worker; nil before its first request
        var workers: [(Double, Double, Bool)?] = Array(repeating: nil, count: inFlight)
        var free = Array(repeating: 0.0, count: inFlight)
        while true {
            let i = free.indices.min { free[$0] < free[$1] }!
            let now = free[i]
            if now > seconds { break }
            if let (_, sentAt, throttled) = workers[i] {
                if throttled {
                    result.throttled += 1
                    rate.throttled(now: now, sentAt: sentAt)
                } else {
                    result.accepted += 1
                    rate.succeeded(now: now, sentAt: sentAt)
                }
            }
            let sendAt = rate.reserve(now: now)
            workers[i] = (sendAt + rtt, sendAt, throttle(sendAt))
            free[i] = sendAt + rtt
        }
        return result
    }
}

/// The service side of a real quota: `rate` tokens a second, at most `burst` kept.
struct QuotaBucket {
    let rate: Double
    let burst: Double
    var tokens: Double
    var last = 0.0

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
        self.tokens = burst
    }

    mutating func take(at t: Double) -> Bool {
        tokens = min(burst, tokens + max(0, t - last) * rate)
        last = max(last, t)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
