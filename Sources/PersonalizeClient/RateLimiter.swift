import Foundation
import PersonalizeModel
import Synchronization

/// How fast the client may call the service.
///
/// Rates are requests per second for one operation and one destination (the tracking id of PutEvents and
/// PutActionInteractions, the dataset ARN of the others), because the service's quotas are per dataset group.
/// `0` means unlimited.
public struct RateLimits: Sendable, Hashable {
    /// Requests per second per destination, by operation. An operation that is absent, or mapped to `0`, is unlimited.
    public var perOperation: [PersonalizeModel.Operation: Double]
    /// A cap over all operations and destinations together (`--max-rps`); `0` = none.
    public var maxRequestsPerSecond: Double
    /// Lower a destination's rate when the service throttles it, and recover afterwards (the SDKs' adaptive mode).
    public var adaptive: Bool
    /// How many requests may go at once after a quiet spell, as seconds' worth of the rate (at least one request).
    /// `0.1` lets PutEvents (1000/s) send 100 at once and PutItems (10/s) one at a time.
    public var burstSeconds: Double

    public init(
        perOperation: [PersonalizeModel.Operation: Double], maxRequestsPerSecond: Double = 0, adaptive: Bool = true,
        burstSeconds: Double = 0.1
    ) {
        self.perOperation = perOperation
        self.maxRequestsPerSecond = maxRequestsPerSecond
        self.adaptive = adaptive
        self.burstSeconds = burstSeconds
    }

    /// The defaults: PutItems and PutUsers at their documented quota, 10/s per dataset group (PutActions and
    /// PutActionInteractions, absent from the quota table we have, get the same conservative 10/s); PutEvents is
    /// not limited up front (its quota, 1000/s per dataset group by default, is often raised): with `adaptive`, the
    /// first throttle gives it a rate, as the SDKs' adaptive mode does. Set `aws.rateLimits.PutEvents` to pin one.
    public static let serviceQuotas = RateLimits(perOperation: [
        .putItems: 10, .putUsers: 10, .putActions: 10, .putActionInteractions: 10,
    ])

    /// No client-side limit at all (benchmarks, local sinks).
    public static let unlimited = RateLimits(perOperation: [:], maxRequestsPerSecond: 0, adaptive: false)

    /// The configured rate of `operation`; `0` = unlimited.
    public func rate(for operation: PersonalizeModel.Operation) -> Double {
        max(0, perOperation[operation] ?? 0)
    }

    /// The burst, in requests, for `rate`.
    public func burst(for rate: Double) -> Double {
        max(1, (rate * burstSeconds).rounded(.down))
    }
}

/// A client-side rate limiter: one ``AdaptiveRate`` per operation and destination, plus an optional global cap.
///
/// ``acquire(_:destination:)`` takes one lock, reserves the next free slot (first come, first served) and sleeps
/// until it if it is in the future: no polling, and many concurrent callers on one key never exceed its rate.
///
/// A key whose configured rate is `0` (unlimited) is only metered; in adaptive mode its first throttle gives it a
/// rate (a little under what was being sent), which then recovers like any other, and once it has been back at
/// twice that rate for a while the key is unlimited again. This is how the SDKs' adaptive mode behaves: no
/// client-side limit until the service says so.
public final class RateLimiter: Sendable {
    /// A granted permit: when the request may go (seconds on the limiter's clock).
    public struct Permit: Sendable {
        public let time: Double
        fileprivate let keyArrival: Double?
        fileprivate let globalArrival: Double?
    }

    struct Key: Hashable {
        var operation: PersonalizeModel.Operation
        var destination: String
    }

    /// The smoothed request rate of an unlimited key (botocore's measuring window and smoothing).
    struct Meter {
        var windowStart: Double
        var count = 0
        var rate: Double = 0

        mutating func tick(now: Double) {
            count += 1
            let elapsed = now - windowStart
            guard elapsed >= 0.5 else { return }
            if elapsed <= 2 {
                let measured = Double(count) / elapsed
                rate = rate == 0 ? measured : 0.8 * measured + 0.2 * rate
            }
            windowStart = now
            count = 0
        }

        /// The smoothed rate, or before the first full window, the rate since the window began.
        func estimate(now: Double) -> Double {
            if rate > 0 { return rate }
            return Double(count) / max(now - windowStart, 0.05)
        }
    }

    struct State {
        var keys: [Key: AdaptiveRate] = [:]
        var meters: [Key: Meter] = [:]
        /// When each unlimited key was last released from a dynamic limit.
        var released: [Key: Double] = [:]
        /// The tolerable throttle share a released key had learnt: kept for its next dynamic limit.
        var tolerated: [Key: Double] = [:]
        var global: AdaptiveRate?
    }

    /// How long an unlimited key that was throttled must run at its recovered rate before it is unlimited again.
    static let releaseAfterSeconds = 30.0
    /// The lowest rate a throttled unlimited key is brought to: this share of what it was sending, at least
    /// ``dynamicFloor`` requests per second.
    static let dynamicFloorShare = 0.1
    static let dynamicFloor = 1.0

    public let limits: RateLimits
    /// Seconds since the limiter was made, on its clock.
    private let elapsed: @Sendable () -> Double
    /// Sleeps until the given number of seconds since the limiter was made, on its clock.
    private let sleepUntil: @Sendable (Double) async throws -> Void
    private let state: Mutex<State>
    /// False when nothing is limited or metered: permits then cost nothing at all.
    private let anyLimit: Bool
    /// Whether an unlimited key has a dynamic rate (from a throttle) at the moment.
    private let anyDynamic = Atomic<Bool>(false)

    public convenience init(limits: RateLimits) {
        self.init(limits: limits, clock: ContinuousClock())
    }

    /// A limiter that reads and sleeps on `clock` (the continuous clock in production; a test clock makes its
    /// decisions independent of the machine's speed).
    public init<C: Clock<Duration>>(limits: RateLimits, clock: C) {
        self.limits = limits
        let origin = clock.now
        self.elapsed = { origin.duration(to: clock.now).seconds }
        self.sleepUntil = { seconds in
            try await clock.sleep(until: origin.advanced(by: .seconds(seconds)), tolerance: nil)
        }
        var initial = State()
        if limits.maxRequestsPerSecond > 0 {
            initial.global = AdaptiveRate(
                maxRate: limits.maxRequestsPerSecond, burst: limits.burst(for: limits.maxRequestsPerSecond),
                adaptive: false, now: 0)
        }
        self.state = Mutex(initial)
        self.anyLimit =
            limits.adaptive || limits.maxRequestsPerSecond > 0
            || PersonalizeModel.Operation.allCases.contains { limits.rate(for: $0) > 0 }
    }

    /// Seconds since the limiter was made.
    public func now() -> Double {
        elapsed()
    }

    /// Waits until one more `operation` request to `destination` may go. Throws `CancellationError` if the task is
    /// cancelled first (the permit is then given back when possible).
    @discardableResult
    public func acquire(_ operation: PersonalizeModel.Operation, destination: String) async throws -> Permit {
        guard anyLimit else { return Permit(time: 0, keyArrival: nil, globalArrival: nil) }
        try Task.checkCancellation()
        let rate = limits.rate(for: operation)
        let key = Key(operation: operation, destination: destination)
        let now = now()
        let permit = state.withLock { s in grant(&s, key, rate: rate, now: now, immediateOnly: false)! }
        if permit.time > now {
            do {
                try await sleepUntil(permit.time)
            } catch {
                refund(permit, operation: operation, destination: destination)
                throw CancellationError()
            }
        }
        return permit
    }

    /// A permit for a request going now, if one is free now (else `nil`, and nothing is reserved).
    public func tryAcquireNow(_ operation: PersonalizeModel.Operation, destination: String) -> Permit? {
        guard anyLimit else { return Permit(time: 0, keyArrival: nil, globalArrival: nil) }
        let rate = limits.rate(for: operation)
        let key = Key(operation: operation, destination: destination)
        let now = now()
        return state.withLock { s in grant(&s, key, rate: rate, now: now, immediateOnly: true) }
    }

    private func grant(_ s: inout State, _ key: Key, rate: Double, now: Double, immediateOnly: Bool) -> Permit? {
        if rate == 0, s.keys[key] == nil {
            // Unlimited and never throttled: only measured (in adaptive mode) and held to the global cap. A request
            // is measured once, when its permit is granted.
            var time = now
            if let global = s.global { time = max(now, global.earliest(now: now)) }
            if immediateOnly && time > now { return nil }
            if limits.adaptive {
                // By index rather than `meters[key, default:]`, whose accessor costs an allocation per request.
                if let i = s.meters.index(forKey: key) {
                    s.meters.values[i].tick(now: now)
                } else {
                    var meter = Meter(windowStart: now)
                    meter.tick(now: now)
                    s.meters[key] = meter
                }
            }
            return Permit(time: time, keyArrival: nil, globalArrival: s.global?.commit(at: time, now: now))
        }
        var time = now
        if let limited = s.keys[key] { time = max(time, limited.earliest(now: now)) }
        if let global = s.global { time = max(time, global.earliest(now: now)) }
        if immediateOnly && time > now { return nil }
        let keyArrival = s.keys[key, default: makeRate(rate, now: now)].commit(at: time, now: now)
        let globalArrival = s.global?.commit(at: time, now: now)
        if rate == 0, let limited = s.keys[key], limited.hasRecovered(at: now, for: Self.releaseAfterSeconds) {
            s.keys[key] = nil  // back to unlimited
            if limited.tolerableShare > 0 { s.tolerated[key] = limited.tolerableShare }
            if s.keys.isEmpty { anyDynamic.store(false, ordering: .relaxed) }
            s.meters[key] = Meter(windowStart: now)
            s.released[key] = now
        }
        return Permit(time: time, keyArrival: keyArrival, globalArrival: globalArrival)
    }

    /// Gives back a permit whose request did not go (when no later permit was granted since).
    public func refund(_ permit: Permit, operation: PersonalizeModel.Operation, destination: String) {
        let key = Key(operation: operation, destination: destination)
        state.withLock { s in
            if let arrival = permit.keyArrival { s.keys[key]?.refund(time: permit.time, arrivalAfter: arrival) }
            if let arrival = permit.globalArrival { s.global?.refund(time: permit.time, arrivalAfter: arrival) }
        }
    }

    /// The service throttled a request sent under `permit`: lowers that key's rate (adaptive mode). An unlimited
    /// key gets a rate here, starting from what it was sending.
    public func throttled(_ operation: PersonalizeModel.Operation, destination: String, permit: Permit) {
        guard limits.adaptive else { return }
        let key = Key(operation: operation, destination: destination)
        let unlimited = limits.rate(for: operation) == 0
        guard permit.keyArrival != nil || unlimited else { return }
        let now = now()
        state.withLock { s in
            if s.keys[key] == nil {
                guard unlimited else { return }
                // A throttle of a request sent before the key was released says nothing about the fresh meter.
                if let released = s.released[key], permit.time < released { return }
                let sent = max(1, s.meters[key]?.estimate(now: now) ?? 1)
                // Recovery may take it up to twice what it was sending; if it stays there, it is released. The floor,
                // a tenth of what was being sent, is what throttling that does not depend on the rate can cost at
                // worst (such throttling is recognised and tolerated, see `AdaptiveRate`); a quota below it only
                // means more of the requests are throttled and retried.
                s.keys[key] = AdaptiveRate(
                    maxRate: max(2 * sent, Self.dynamicFloor), burst: limits.burst(for: sent),
                    minimumRate: max(Self.dynamicFloor, sent * Self.dynamicFloorShare), adaptive: true,
                    tolerableShare: s.tolerated[key] ?? 0, now: now)
                anyDynamic.store(true, ordering: .relaxed)
                s.keys[key]!.throttled(now: now, sentAt: permit.time, from: sent)
                return
            }
            _ = s.keys[key]!.throttled(now: now, sentAt: permit.time)
        }
    }

    /// The service accepted a request sent under `permit`: a lowered rate recovers along the cubic. Costs nothing
    /// while no key has been throttled.
    public func succeeded(_ operation: PersonalizeModel.Operation, destination: String, permit: Permit) {
        guard limits.adaptive, permit.keyArrival != nil || anyDynamic.load(ordering: .relaxed) else { return }
        let key = Key(operation: operation, destination: destination)
        let now = now()
        state.withLock { s in
            guard let i = s.keys.index(forKey: key) else { return }
            s.keys.values[i].succeeded(now: now, sentAt: permit.time)
        }
    }

    /// The rate in force now for `operation` to `destination`, requests per second; `nil` when unlimited.
    public func currentRate(for operation: PersonalizeModel.Operation, destination: String) -> Double? {
        let rate = limits.rate(for: operation)
        let key = Key(operation: operation, destination: destination)
        let now = now()
        return state.withLock { s in s.keys[key]?.rate(at: now) ?? (rate > 0 ? rate : nil) }
    }

    private func makeRate(_ rate: Double, now: Double) -> AdaptiveRate {
        // Never below a tenth of the configured rate: throttling that does not depend on the rate (a noisy
        // neighbour, a partial outage) must not collapse a catch-up to a crawl.
        AdaptiveRate(
            maxRate: rate, burst: limits.burst(for: rate), minimumRate: max(0.5, rate * 0.1), adaptive: limits.adaptive,
            now: now)
    }
}
