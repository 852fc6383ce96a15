/// Failures the stand-in injects, so tests can prove the client retries, backs off, isolates bad records and
/// loses nothing. Applied only to requests that pass authentication (as the real service authenticates
/// first), in this order: `script`, `signatureMismatchNext`, `throttleNext`, `quotaPerSecond`, `dropFraction`,
/// `throttleFraction`, `unavailableFraction`; then the body is validated, then `rejectRecordIds` / `rejectWhen`
/// are checked.
///
/// `setFaults` replaces all of them at once and restarts the PRNG from `seed`.
public struct Faults: Sendable {
    /// Fraction of requests answered 400 `ThrottlingException`.
    public var throttleFraction: Double
    /// Fraction of requests answered 503 `ServiceUnavailable`.
    public var unavailableFraction: Double
    /// Fraction of requests whose connection is closed without an answer.
    public var dropFraction: Double
    /// The next N authenticated requests are throttled (deterministic).
    public var throttleNext: Int
    /// The next N authenticated requests are answered 403 `InvalidSignatureException` with the message AWS sends
    /// on a mismatch: the canonical request (its `x-amz-security-token` line included), the string to sign and
    /// the signature provided. For leak tests: none of it may reach the client's outputs.
    public var signatureMismatchNext: Int
    /// A real quota: a token bucket of this many requests per second (0 = none), holding up to
    /// `quotaBurst` requests; requests beyond it are throttled and take no token.
    public var quotaPerSecond: Double
    /// The quota bucket's size, in requests (at least 1).
    public var quotaBurst: Double
    /// Scripted answers for the next requests, consumed first, one per request.
    public var script: [ScriptedAnswer]
    /// A request holding a record with one of these ids (see `AcceptedRecord.id`) is rejected whole with
    /// 400 `InvalidInputException` naming the record, as the real service rejects a whole batch.
    public var rejectRecordIds: Set<String>
    /// A request holding a record for which this returns true is rejected like `rejectRecordIds`.
    public var rejectWhen: (@Sendable (AcceptedRecord) -> Bool)?
    /// Seed of the PRNG that draws the fractions.
    public var seed: UInt64
    /// When set, throttling answers carry `x-amz-retry-after` (milliseconds).
    public var retryAfterMillis: Int?
    /// Delay before every answer (accepted or not), to exercise client timeouts and concurrency.
    public var responseDelayMillis: Int

    public init(
        throttleFraction: Double = 0, unavailableFraction: Double = 0, dropFraction: Double = 0,
        throttleNext: Int = 0, signatureMismatchNext: Int = 0, quotaPerSecond: Double = 0, quotaBurst: Double = 1,
        script: [ScriptedAnswer] = [], rejectRecordIds: Set<String> = [],
        rejectWhen: (@Sendable (AcceptedRecord) -> Bool)? = nil, seed: UInt64 = 1, retryAfterMillis: Int? = nil,
        responseDelayMillis: Int = 0
    ) {
        self.throttleFraction = throttleFraction
        self.unavailableFraction = unavailableFraction
        self.dropFraction = dropFraction
        self.throttleNext = throttleNext
        self.signatureMismatchNext = signatureMismatchNext
        self.quotaPerSecond = quotaPerSecond
        self.quotaBurst = quotaBurst
        self.script = script
        self.rejectRecordIds = rejectRecordIds
        self.rejectWhen = rejectWhen
        self.seed = seed
        self.retryAfterMillis = retryAfterMillis
        self.responseDelayMillis = responseDelayMillis
    }

    /// No faults at all.
    public static var none: Faults { Faults() }
}

/// One scripted answer (see `Faults.script`).
public enum ScriptedAnswer: Sendable, Hashable {
    /// Answer with this status and error code (`X-Amzn-ErrorType`), and an optional message.
    case error(status: Int, code: String, message: String? = nil)
    /// Close the connection without answering.
    case drop
    /// Process the request normally (lets a script interleave successes).
    case pass
    /// 403 `InvalidSignatureException` quoting the request's canonical form, as AWS does on a mismatch.
    case signatureMismatch

    /// 400 `ThrottlingException`, as Personalize throttles.
    public static let throttle = ScriptedAnswer.error(status: 400, code: "ThrottlingException")
    /// 503 `ServiceUnavailable`.
    public static let unavailable = ScriptedAnswer.error(status: 503, code: "ServiceUnavailable")
    /// 500 `InternalFailure`.
    public static let internalFailure = ScriptedAnswer.error(status: 500, code: "InternalFailure")
}
