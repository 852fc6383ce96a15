import AWSSigV4
import Foundation
import Logging

/// Caches another provider's credentials and replaces them before they expire.
///
/// Signing asks for credentials on every request, so this is the one place that talks to the slow
/// sources. Each set is scheduled by ``RefreshPolicy`` when it arrives (windows proportional to its
/// lifetime, with jitter): before its refresh point it is simply used; in the advisory window callers
/// keep getting it while one background refresh runs; in the mandatory window they wait, but all
/// concurrent callers share that one refresh. A set is fetched at most once per window: after a
/// failed refresh, or one that brought no later expiry, no fetch starts for `retryInterval` (or half
/// the remaining lifetime, if shorter) while the cached set is still valid, and the cached set is used.
public actor RefreshingCredentialProvider: CredentialProvider {
    public nonisolated let base: any CredentialProvider
    public nonisolated let policy: RefreshPolicy
    /// Minimum time between refresh attempts after one failed or brought nothing newer.
    public nonisolated let retryInterval: TimeInterval
    private let now: @Sendable () -> Date
    private let random: @Sendable () -> Double
    private let logger: Logger

    private var cached: AWSCredentials?
    private var schedule: RefreshPolicy.Schedule?
    private var inFlight: Task<AWSCredentials, any Error>?
    private var noRefreshBefore: Date?

    public init(
        wrapping base: any CredentialProvider, policy: RefreshPolicy = RefreshPolicy(),
        retryInterval: TimeInterval = 30,
        logger: Logger, now: @escaping @Sendable () -> Date = { Date() },
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.base = base
        self.policy = policy
        self.retryInterval = retryInterval
        self.logger = logger
        self.now = now
        self.random = random
    }

    public nonisolated var providerName: String { base.providerName }

    public func credentials() async throws -> AWSCredentials {
        let now = now()
        let resting = noRefreshBefore.map { now < $0 } ?? false
        switch policy.decide(cached == nil ? nil : schedule, now: now) {
        case .useCached:
            return cached!
        case .useCachedAndRefresh:
            if inFlight == nil && !resting { _ = startRefresh(background: true) }
            return cached!
        case .refresh:
            if let cached, resting, inFlight == nil, !cached.expires(within: 0, of: now) { return cached }
            let task = inFlight ?? startRefresh(background: false)
            do {
                return try await task.value
            } catch {
                if let cached, !cached.expires(within: 0, of: self.now()) {
                    logger.error(
                        "credential refresh failed; using the cached credentials until they expire",
                        metadata: [
                            "aws.credentials.provider": "\(base.providerName)",
                            "error": "\(Redaction.redact("\(error)"))",
                        ])
                    return cached
                }
                throw error
            }
        }
    }

    /// Forgets the cached credentials, so the next call fetches new ones: for an `ExpiredToken`
    /// answer, which means the credentials died earlier than they said.
    public func invalidate() async {
        cached = nil
        schedule = nil
        noRefreshBefore = nil
    }

    /// Waits for a running refresh to end (tests drive the clock and need background work finished).
    func settle() async {
        _ = try? await inFlight?.value
    }

    // MARK: - Refresh

    private func startRefresh(background: Bool) -> Task<AWSCredentials, any Error> {
        let base = self.base
        let task = Task<AWSCredentials, any Error> {
            do {
                let fresh = try await base.credentials()
                self.finish(.success(fresh), background: background)
                return fresh
            } catch {
                self.finish(.failure(error), background: background)
                throw error
            }
        }
        inFlight = task
        logger.debug(
            background ? "refreshing credentials in the background" : "fetching credentials",
            metadata: ["aws.credentials.provider": "\(base.providerName)"])
        return task
    }

    private func finish(_ result: Result<AWSCredentials, any Error>, background: Bool) {
        inFlight = nil
        switch result {
        case .success(let fresh):
            let fetchedAt = now()
            // A source that hands out the same set again (instance metadata does until shortly before expiry)
            // must not be asked again at once: rest as after a failure, while the set is valid.
            let renewed =
                cached?.expiration == nil || fresh.expiration == nil
                || fresh.expiration! > cached!.expiration!
            cached = fresh
            schedule = policy.schedule(for: fresh, fetchedAt: fetchedAt, random: random())
            noRefreshBefore = renewed ? nil : rest(from: fetchedAt)
            logger.debug(
                "credentials refreshed",
                metadata: [
                    "aws.credentials.provider": "\(base.providerName)",
                    "aws.credentials.expiration": "\(fresh.expiration.map { "\($0)" } ?? "never")",
                ])
        case .failure(let error):
            noRefreshBefore = rest(from: now())
            // A foreground failure reaches the caller as an error; only a background one needs a log line.
            guard background else { return }
            logger.warning(
                "background credential refresh failed; still using the cached credentials",
                metadata: [
                    "aws.credentials.provider": "\(base.providerName)", "error": "\(Redaction.redact("\(error)"))",
                ])
        }
    }

    /// Until when no fetch starts after one that failed or brought nothing newer: `retryInterval`, or half of what
    /// is left of the cached set if that is shorter.
    private func rest(from time: Date) -> Date {
        var seconds = retryInterval
        if let expiration = cached?.expiration {
            seconds = min(seconds, max(0, expiration.timeIntervalSince(time)) / 2)
        }
        return time.addingTimeInterval(seconds)
    }
}
