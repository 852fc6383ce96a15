import Synchronization

/// The state every connection of one stand-in shares: faults, the PRNG, counters and accepted requests,
/// behind one lock taken at most twice per request (decide the fault, record the outcome).
final class StandInCore: Sendable {
    /// What the stand-in does with one request.
    enum Answer: Sendable {
        case accepted
        case error(ServiceError)
        case drop
    }

    /// A request's share of the current faults, taken under the lock so the rest runs without it.
    struct FaultDecision: Sendable {
        var scripted: ScriptedAnswer = .pass
        var rejectRecordIds: Set<String> = []
        var rejectWhen: (@Sendable (AcceptedRecord) -> Bool)?
        var retryAfterMillis: Int?
        var delayMillis = 0
    }

    private struct State {
        var faults: Faults
        var rng: SplitMix64
        var stats = PersonalizeStandIn.Stats()
        var accepted: [AcceptedRequest] = []
        /// The quota's token bucket: tokens left and when they were counted.
        var quotaTokens = 0.0
        var quotaTime: ContinuousClock.Instant?
    }

    let configuration: PersonalizeStandIn.Configuration
    private let state: Mutex<State>

    init(configuration: PersonalizeStandIn.Configuration) {
        self.configuration = configuration
        self.state = Mutex(State(faults: Faults(), rng: SplitMix64(seed: 1)))
    }

    // MARK: Faults

    func setFaults(_ faults: Faults) {
        state.withLock {
            $0.faults = faults
            $0.rng = SplitMix64(seed: faults.seed)
            $0.quotaTokens = max(1, faults.quotaBurst)
            $0.quotaTime = nil
        }
    }

    /// Draws this request's fault: the script first, then `throttleNext`, then the fractions.
    func decideFault() -> FaultDecision {
        state.withLock { state in
            let faults = state.faults
            var decision = FaultDecision(
                rejectRecordIds: faults.rejectRecordIds, rejectWhen: faults.rejectWhen,
                retryAfterMillis: faults.retryAfterMillis, delayMillis: faults.responseDelayMillis)
            if !state.faults.script.isEmpty {
                decision.scripted = state.faults.script.removeFirst()
                if decision.scripted != .pass { return decision }
            }
            if state.faults.signatureMismatchNext > 0 {
                state.faults.signatureMismatchNext -= 1
                decision.scripted = .signatureMismatch
            } else if state.faults.throttleNext > 0 {
                state.faults.throttleNext -= 1
                decision.scripted = .throttle
            } else if faults.quotaPerSecond > 0 && !Self.takeQuotaToken(&state) {
                decision.scripted = .throttle
            } else if state.rng.chance(faults.dropFraction) {
                decision.scripted = .drop
            } else if state.rng.chance(faults.throttleFraction) {
                decision.scripted = .throttle
            } else if state.rng.chance(faults.unavailableFraction) {
                decision.scripted = .unavailable
            }
            return decision
        }
    }

    /// Refills the quota bucket for the time since it was last counted and takes one token if there is one.
    private static func takeQuotaToken(_ state: inout State) -> Bool {
        let now = ContinuousClock.now
        let burst = max(1, state.faults.quotaBurst)
        if let last = state.quotaTime {
            let elapsed = now - last
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            state.quotaTokens = min(burst, state.quotaTokens + seconds * state.faults.quotaPerSecond)
        }
        state.quotaTime = now
        guard state.quotaTokens >= 1 else { return false }
        state.quotaTokens -= 1
        return true
    }

    // MARK: Recording

    /// Counts one answered (or dropped) request and keeps it when it was accepted.
    func record(
        operation: PersonalizeStandIn.Operation?, answer: Answer, bodyBytes: Int, accepted: AcceptedRequest?,
        recordCount: Int
    ) {
        let keep = configuration.recordBodies ? accepted : nil
        state.withLock { state in
            state.stats.requests += 1
            state.stats.bodyBytes += bodyBytes
            if let operation { state.stats.requestsByOperation[operation, default: 0] += 1 }
            switch answer {
            case .accepted:
                state.stats.accepted += 1
                state.stats.acceptedRecords += recordCount
                if let operation { state.stats.acceptedByOperation[operation, default: 0] += 1 }
                if let keep { state.accepted.append(keep) }
            case .drop:
                state.stats.dropped += 1
            case .error(let error):
                if error.stage == .authentication { state.stats.signatureFailures += 1 }
                if error.status >= 500 {
                    state.stats.failed += 1
                } else if error.code == "ThrottlingException" {
                    state.stats.throttled += 1
                } else {
                    state.stats.rejected += 1
                    state.stats.rejectedByCode[error.code, default: 0] += 1
                }
            }
        }
    }

    var stats: PersonalizeStandIn.Stats {
        state.withLock { $0.stats }
    }

    func acceptedRequests() -> [AcceptedRequest] {
        state.withLock { $0.accepted }
    }

    /// Forgets accepted requests and counters; faults stay as set.
    func reset() {
        state.withLock {
            $0.stats = PersonalizeStandIn.Stats()
            $0.accepted = []
        }
    }
}
