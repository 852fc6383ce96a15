/// When to try again and how long to wait: full-jitter exponential backoff, as the AWS SDKs' standard mode, but by
/// default without an attempt cap, because a forwarder that gives up loses data. One policy for every AWS call the
/// agent makes (PutEvents and the other Put operations, S3 uploads, the import-job control plane).
public struct RetryPolicy: Sendable, Hashable {
    /// First backoff ceiling, seconds.
    public var base: Double
    /// Largest backoff ceiling, seconds.
    public var cap: Double
    /// Attempts per request including the first; 0 = never give up on a retryable error.
    public var maxAttempts: Int
    /// Give up after this many seconds of retrying one request; `nil` = no deadline.
    public var deadline: Double?

    public init(base: Double = 0.1, cap: Double = 20, maxAttempts: Int = 0, deadline: Double? = nil) {
        self.base = base
        self.cap = cap
        self.maxAttempts = maxAttempts
        self.deadline = deadline
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 1), given a random number in `0..<1`.
    /// A server-sent retry-after (seconds) is honoured as a floor.
    public func delay(afterAttempt attempt: Int, random: Double, retryAfter: Double? = nil) -> Double {
        let exponent = min(attempt - 1, 30)
        let ceiling = min(cap, base * Double(1 << exponent))
        let jittered = random * ceiling
        if let retryAfter { return min(max(jittered, retryAfter), max(cap, retryAfter)) }
        return jittered
    }

    /// Whether another attempt is allowed after `attempt` attempts that began `elapsed` seconds ago.
    public func allowsRetry(afterAttempt attempt: Int, elapsed: Double) -> Bool {
        if maxAttempts > 0, attempt >= maxAttempts { return false }
        if let deadline, elapsed >= deadline { return false }
        return true
    }
}
