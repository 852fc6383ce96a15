import Foundation

/// The pure state of one rate-limited key: a token bucket (in its GCRA form, a "theoretical arrival time") whose
/// fill rate follows the AWS SDKs' adaptive retry mode, plus two guards the SDKs lack.
///
/// The SDK part is botocore's `retries/adaptive.py`, number for number: every answer is clocked (the measured
/// send rate: 0.5-second buckets, smoothing 0.8); a throttle sets `W_max` to the rate being sent and the fill rate
/// to `β·W_max` (β = 0.7); every success sets it to the CUBIC curve `C·(t − K)³ + W_max` (C = 0.4,
/// `K = ∛(W_max·(1−β)/C)`: back at `W_max` after K seconds, then growing faster), never above twice the measured
/// rate. `Tests/PersonalizeClientTests/Fixtures/botocore-adaptive.json` holds botocore's own rates for fixed
/// answer sequences; with ``Guards/botocore`` this type reproduces them.
///
/// The guards (``Guards/agent``) keep the SDK's behaviour against a real quota and stop its collapse when throttling
/// does not depend on the rate (a noisy neighbour, a partial outage, 30 % of requests throttled at random): there
/// every throttle multiplies the rate by 0.7 long before the cubic recovers, down to the floor.
/// - Requests in flight when the rate was lowered are throttled together: one decrease for all of them.
/// - `W_max` is at most the rate the service accepted (measured like the send rate), so one decrease brings a rate
///   far above a quota down to it, instead of one 0.7 step per answer.
/// - Each decrease is judged once enough answers came back after it (the rate is held meanwhile), against the last
///   stretch that had enough answers (decreases in quick succession are judged, and undone, together): when
///   throttling went on at about the same share while the accepted rate fell with the sending rate, lowering the
///   rate did not help, so it is undone and throttling at up to that share (plus a margin) no longer lowers the
///   rate. The share is forgotten when a stretch of answers sees much less of it.
/// - The rate never goes below `minimumRate`.
public struct AdaptiveRate: Sendable {
    /// Multiplier applied to the rate on throttling.
    public static let beta = 0.7
    /// Scale of the cubic recovery (botocore's value).
    public static let scale = 0.4

    /// Which of the guards run.
    public struct Guards: Sendable, Equatable {
        public var inFlightOnce: Bool
        public var acceptedRateCap: Bool
        public var rateIndependentThrottling: Bool

        /// Botocore's behaviour alone (the oracle comparison).
        public static let botocore = Guards(
            inFlightOnce: false, acceptedRateCap: false, rateIndependentThrottling: false)
        /// What the agent runs.
        public static let agent = Guards(inFlightOnce: true, acceptedRateCap: true, rateIndependentThrottling: true)
    }

    /// Answers to requests sent at least ``settleSeconds`` after a decrease, and ``judgeAfterMinimumSeconds`` of
    /// them, before the decrease is judged and before another one (unless throttling is steep: a share above
    /// ``steepShare``); for slow keys, ``judgeAfterAtLeast`` answers over ``judgeAfterSeconds`` do.
    static let judgeAfter = 40
    static let judgeAfterMinimumSeconds = 0.25
    static let judgeAfterAtLeast = 10
    static let judgeAfterSeconds = 2.0
    /// Requests sent this soon after a decrease still see its transient (a burst into a drained quota): not counted.
    static let settleSeconds = 0.25
    /// Decreases a new rate may make without waiting for a judgement (a share above ``fastShare`` of at least 4
    /// answers since the last one): a limit made at the first throttle, from what was sent unlimited, is often
    /// several times the quota. Under rate-independent throttling they cost at most 0.7³ until the judgement.
    static let fastDecreases = 3
    static let fastShare = 0.25
    /// A share of throttled answers this high after a decrease means the rate is still far above a quota: lower
    /// again without waiting for the judgement.
    static let steepShare = 0.5

    /// The configured rate: never exceeded (`.infinity` for none).
    public let maxRate: Double
    /// The lowest rate throttling can bring it to.
    public let minimumRate: Double
    /// Requests that may go at once after a quiet spell.
    public let burst: Double
    public let adaptive: Bool
    public let guards: Guards

    /// When the next request would be due if requests went exactly at the rate.
    public private(set) var theoreticalArrival: Double
    /// The bucket's fill rate, requests per second.
    public private(set) var fillRate: Double
    /// When the rate was last lowered (the cubic's origin); `nil` while it never was.
    public private(set) var lastThrottle: Double?
    /// `W_max`: the rate when the last decrease happened (the cubic's plateau).
    public private(set) var rateAtThrottle: Double
    private var k: Double = 0
    /// Where the cubic is measured from: the last decrease, moved on while a decrease is judged (the rate is held
    /// meanwhile) or undone.
    private var cubicOrigin: Double = 0
    /// Whether a throttle has switched the bucket on (botocore's `_enabled`).
    private var enabled = false

    /// The smoothed rate of answers (botocore's `RateClocker`).
    public private(set) var sendClock: RateClock
    /// The smoothed rate of accepted answers.
    public private(set) var acceptClock: RateClock
    /// The measured send rate (`0` until a first bucket closed).
    public var measuredRate: Double { sendClock.rate }

    /// Answers to requests sent since the last decrease.
    private var epoch: Epoch
    /// The stretch before the last decrease, to judge it by.
    private var previous: Epoch?
    /// The fill rate just before the last decrease (what undoing it restores).
    private var rateBeforeDecrease: Double = 0
    /// A share of throttled answers that lowering the rate was seen not to reduce; `0` = none known.
    public private(set) var tolerableShare: Double = 0
    /// When the fill rate last reached the configured rate (for releasing a dynamic limit).
    private var atMaxSince: Double?
    /// What remains of ``fastDecreases``.
    private var fastDecreasesLeft = AdaptiveRate.fastDecreases
    /// The highest rate before a decrease since the last judgement: undoing restores it, so decreases made before
    /// a judgement was possible are undone together.
    private var peakBeforeJudgement: Double = 0

    struct Epoch: Sendable {
        var start: Double
        /// When the next stretch began (set once this one is over).
        var end: Double?
        /// Answers to requests sent since the start, settling included (for fast decreases).
        var early = 0
        var earlyThrottles = 0
        var answers = 0
        var throttles = 0
        var judged = false
        var share: Double { answers == 0 ? 0 : Double(throttles) / Double(answers) }
        /// When counting starts.
        var counted: Double { start + AdaptiveRate.settleSeconds }
        /// Enough answers to judge by.
        func ready(at now: Double) -> Bool {
            (answers >= AdaptiveRate.judgeAfter && now - counted >= AdaptiveRate.judgeAfterMinimumSeconds)
                || (answers >= AdaptiveRate.judgeAfterAtLeast && now - counted >= AdaptiveRate.judgeAfterSeconds)
        }
        func sentRate(until now: Double) -> Double {
            Double(answers) / max(now - counted, 0.05)
        }
        func acceptedRate(until now: Double) -> Double {
            Double(answers - throttles) / max(now - counted, 0.05)
        }
    }

    public init(
        maxRate: Double, burst: Double = 1, minimumRate: Double = 0.5, adaptive: Bool = true,
        guards: Guards = .agent, tolerableShare: Double = 0, now: Double
    ) {
        precondition(maxRate > 0, "an AdaptiveRate needs a positive rate; 0 (unlimited) is handled by the limiter")
        self.maxRate = maxRate
        self.minimumRate = min(max(minimumRate, 1e-3), maxRate)
        self.burst = max(1, burst)
        self.adaptive = adaptive
        self.guards = guards
        self.theoreticalArrival = now
        self.fillRate = maxRate.isFinite ? maxRate : 1
        self.rateAtThrottle = 0
        self.sendClock = RateClock(now: now, botocore: guards == .botocore)
        self.acceptClock = RateClock(now: now, botocore: guards == .botocore)
        self.epoch = Epoch(start: now)
        self.tolerableShare = tolerableShare
        self.atMaxSince = now
        if guards == .botocore {  // botocore's cubic starts at creation, from W_max = 0
            lastThrottle = now
            cubicOrigin = now
        }
    }

    /// The rate in force: the fill rate, within the floor and the configured rate.
    public func rate(at now: Double = 0) -> Double {
        guard enabled || guards != .botocore else { return maxRate.isFinite ? maxRate : fillRate }
        return min(maxRate, max(minimumRate, fillRate))
    }

    /// Whether the rate has been at the configured one for at least `seconds` (or was never lowered).
    public func hasRecovered(at now: Double, for seconds: Double) -> Bool {
        guard let atMaxSince else { return false }
        return now - atMaxSince >= seconds
    }

    // MARK: - Permits

    /// The earliest time at or after `now` when one more request conforms. The burst shrinks with the rate (it
    /// is `burst` at the configured rate), as botocore's bucket holds one second's worth of its rate: a full burst
    /// at a lowered rate would overrun the quota that lowered it.
    public func earliest(now: Double) -> Double {
        let current = rate(at: now)
        let interval = 1 / current
        let scaled = maxRate.isFinite ? max(1, (burst * current / maxRate).rounded(.down)) : 1
        return max(now, theoreticalArrival - (scaled - 1) * interval)
    }

    /// Takes a permit for a request going at `time` (≥ `earliest(now:)`); returns the new theoretical arrival time
    /// (to hand back to ``refund(time:arrivalAfter:)`` if the request does not go after all).
    @discardableResult
    public mutating func commit(at time: Double, now: Double) -> Double {
        theoreticalArrival = max(theoreticalArrival, time) + 1 / rate(at: time)
        return theoreticalArrival
    }

    /// Reserves the next permit: returns when the request may go (`now` when it may go at once).
    public mutating func reserve(now: Double) -> Double {
        let time = earliest(now: now)
        commit(at: time, now: now)
        return time
    }

    /// Gives back a permit that was not used (a cancelled waiter), when no later permit was granted since.
    public mutating func refund(time: Double, arrivalAfter: Double) {
        guard theoreticalArrival == arrivalAfter else { return }
        theoreticalArrival -= 1 / rate(at: time)
    }

    // MARK: - Answers

    /// The service accepted a request sent at `sentAt`: the rate moves along the cubic.
    public mutating func succeeded(now: Double, sentAt: Double) {
        guard adaptive else { return }
        let measured = sendClock.record(now)
        acceptClock.record(now)
        count(sentAt: sentAt, throttled: false, now: now)
        guard let lastThrottle else { return }
        // A decrease waiting for its judgement holds the rate: recovering meanwhile would make the stretch after it
        // send as much as the one before, and the judgement could not tell whether lowering the rate helped.
        if guards.rateIndependentThrottling, !epoch.judged, epoch.start == lastThrottle { return }
        let cubic = Self.scale * pow(now - cubicOrigin - k, 3) + rateAtThrottle
        // Botocore caps at twice the measured rate from its first answer; a key made at its first throttle has no
        // measurement for half a second, and is not capped until it has one.
        setFill(min(cubic, measured > 0 || guards == .botocore ? 2 * measured : .infinity), now: now)
    }

    /// The service throttled a request that was sent at `sentAt`. Returns whether the rate was lowered.
    /// `from` overrides the rate to lower (a rate measured elsewhere: an unlimited key's first throttle).
    @discardableResult
    public mutating func throttled(now: Double, sentAt: Double, from sent: Double? = nil) -> Bool {
        guard adaptive else { return false }
        let measured = sendClock.record(now)
        count(sentAt: sentAt, throttled: true, now: now)
        if guards.inFlightOnce, let lastThrottle, sentAt < lastThrottle { return false }
        if guards.rateIndependentThrottling, lastThrottle != nil, !shouldLower(now: now) { return false }
        if guards.rateIndependentThrottling, lastThrottle != nil, !epoch.ready(at: now), tolerableShare == 0,
            !(epoch.answers >= 4 && epoch.share > Self.steepShare)
        {
            fastDecreasesLeft -= 1  // this decrease was a fast one
        }
        // Botocore takes the measured rate alone before its bucket is switched on; the agent's bucket always is.
        var base = sent ?? (enabled || guards != .botocore ? min(measured, rate(at: now)) : measured)
        if guards != .botocore && base <= 0 { base = rate(at: now) }
        if guards.acceptedRateCap, acceptClock.rate > 0 { base = min(base, max(acceptClock.rate, minimumRate)) }
        rateBeforeDecrease = rate(at: now)
        peakBeforeJudgement = max(peakBeforeJudgement, rateBeforeDecrease)
        rateAtThrottle = base
        k = Foundation.cbrt(base * (1 - Self.beta) / Self.scale)
        lastThrottle = now
        cubicOrigin = now
        enabled = true
        setFill(min(base * Self.beta, measured > 0 || guards == .botocore ? 2 * measured : .infinity), now: now)
        // The stretch a decrease is judged against needs enough answers: after a decrease made before that (a fast or
        // steep one), the last stretch that had them stays the reference, and undoing restores the rate before it.
        if previous == nil || epoch.answers >= Self.judgeAfterAtLeast {
            previous = epoch
            previous?.end = now
        }
        epoch = Epoch(start: now)
        return true
    }

    private mutating func setFill(_ value: Double, now: Double) {
        fillRate = guards == .botocore ? max(value, 0.5) : min(maxRate, max(minimumRate, value))
        if rate(at: now) >= maxRate {
            if atMaxSince == nil { atMaxSince = now }
        } else {
            atMaxSince = nil
        }
    }

    // MARK: - Rate-independent throttling

    private mutating func count(sentAt: Double, throttled: Bool, now: Double) {
        guard guards.rateIndependentThrottling, sentAt >= epoch.start else { return }
        epoch.early += 1
        if throttled { epoch.earlyThrottles += 1 }
        guard sentAt >= epoch.counted else { return }
        epoch.answers += 1
        if throttled { epoch.throttles += 1 }
        if !epoch.judged, epoch.ready(at: now) { judge(now: now) }
        // A long stretch without a decrease: start a new one, so the share in force stays recent, and forget a
        // tolerable share that is no longer seen.
        if epoch.answers >= 4 * Self.judgeAfter && epoch.ready(at: now)
            && now - epoch.start >= 4 * (Self.settleSeconds + Self.judgeAfterMinimumSeconds)
        {
            if epoch.share < tolerableShare / 3 { tolerableShare = 0 }
            previous = epoch
            previous?.end = now
            epoch = Epoch(start: now)
            epoch.judged = true
        }
    }

    /// Whether a throttle now should lower the rate: not before the last decrease could be judged (unless
    /// throttling is steep), and with a tolerable share known, only when throttling clearly exceeds it.
    private func shouldLower(now: Double) -> Bool {
        if tolerableShare > 0 { return epoch.ready(at: now) && epoch.share > tolerableShare * 1.5 + 0.05 }
        if epoch.ready(at: now) { return true }
        if epoch.answers >= 4 && epoch.share > Self.steepShare { return true }
        return fastDecreasesLeft > 0 && epoch.early >= 4
            && Double(epoch.earlyThrottles) / Double(epoch.early) > Self.fastShare
    }

    /// Once enough answers came after a decrease: did lowering the rate reduce throttling? Against a quota it does
    /// (none, or the accepted rate stays what the quota allows); when throttling is independent of the rate, the
    /// share stays and the accepted rate falls with the sending rate: undo the decrease and tolerate that share.
    private mutating func judge(now: Double) {
        epoch.judged = true
        guard lastThrottle == epoch.start else { return }
        cubicOrigin = now  // the rate was held until now: recovery starts here
        guard let previous, previous.answers >= Self.judgeAfterAtLeast else { return }
        let previousEnd = previous.end ?? epoch.start
        let share = epoch.share
        let persisted = share >= 0.05 && share >= 0.7 * previous.share
        // Only a decrease that did slow the sending can be judged (one above what was being sent changes nothing).
        let sentFell = epoch.sentRate(until: now) < 0.85 * previous.sentRate(until: previousEnd)
        let acceptedFell = epoch.acceptedRate(until: now) < 0.85 * previous.acceptedRate(until: previousEnd)
        // At the floor a decrease cannot slow the sending: throttling that goes on there is taken as independent
        // of the rate (a quota below the floor is not expected), or the rate would stay pinned to the floor.
        let fromFloor = rateBeforeDecrease <= minimumRate * 1.001 && share >= 0.05
        let peak = max(peakBeforeJudgement, rateBeforeDecrease)
        guard (persisted && sentFell && acceptedFell) || fromFloor else {
            // Throttling fell: the decrease helped (a quota lies below the old rate), and a later undo restores at
            // most the rate from here. When it neither fell nor could be judged, a later undo restores the peak.
            if !persisted { peakBeforeJudgement = 0 }
            return
        }
        peakBeforeJudgement = 0
        // When both stretches saw the same rate-independent share, the larger of the two samples is the safer
        // estimate of it (a low one would make the next stretch's ordinary noise lower the rate again).
        tolerableShare = max(tolerableShare, share, persisted && sentFell && acceptedFell ? previous.share : 0)
        rateBeforeDecrease = peak
        rateAtThrottle = rateBeforeDecrease
        k = Foundation.cbrt(rateAtThrottle * (1 - Self.beta) / Self.scale)
        cubicOrigin = now - k  // on the plateau at the old rate, growing from here
        setFill(rateBeforeDecrease, now: now)
    }
}

/// botocore's `RateClocker`: counts events in half-second buckets and smooths the per-bucket rate (0.8 new,
/// 0.2 old). The first bucket starts at the whole second before creation, as in botocore.
///
/// Unless `botocore`, a gap of more than two seconds (an idle spell: the agent in follow mode) starts the count
/// afresh instead of averaging the idle time in, which would make the next throttle cut the rate to the floor.
public struct RateClock: Sendable {
    static let smoothing = 0.8
    static let bucketSeconds = 0.5
    static let quietSpell = 2.0

    private var lastBucket: Double
    private var count = 0.0
    private let botocore: Bool
    public private(set) var rate = 0.0

    public init(now: Double, botocore: Bool = false) {
        lastBucket = now.rounded(.down)
        self.botocore = botocore
    }

    /// Counts one event at `now`; returns the smoothed rate.
    @discardableResult
    public mutating func record(_ now: Double) -> Double {
        let bucket = (now / Self.bucketSeconds).rounded(.down) * Self.bucketSeconds
        count += 1
        if !botocore && bucket - lastBucket > Self.quietSpell {
            count = 0
            lastBucket = bucket
            return rate
        }
        if bucket > lastBucket {
            let current = count / (bucket - lastBucket)
            rate = current * Self.smoothing + rate * (1 - Self.smoothing)
            count = 0
            lastBucket = bucket
        }
        return rate
    }
}
