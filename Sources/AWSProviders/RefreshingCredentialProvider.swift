import AWSSigV4
import Foundation
import Logging

/// Caches another provider's credentials and replaces them before they expire.
///
/// Signing asks for credentials on every request, so this is the one place that talks to the slow
/// sources. In the advisory window callers keep getting the cached credentials while one background
/// refresh runs; in the mandatory window they wait, but all concurrent callers share that one
/// refresh. If a refresh fails while the cached credentials still work, they are used and the
/// failure logged; a failed background refresh is not retried for `retryInterval`.
public actor RefreshingCredentialProvider: CredentialProvider {
    public nonisolated let base: any CredentialProvider
    public nonisolated let policy: RefreshPolicy
    /// Minimum time between background refresh attempts after one failed.
    public nonisolated let retryInterval: TimeInterval
    private let now: @Sendable () -> Date
    private let logger: Logger

    private var cached: AWSCredentials?
    private var inFlight: Task<AWSCredentials, any Error>?
    private var noBackgroundRefreshBefore: Date?

    public init(
        wrapping base: any CredentialProvider, policy: RefreshPolicy = RefreshPolicy(),
        retryInterval: TimeInterval = 30,
        logger: Logger, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.base = base
        self.policy = policy
        self.retryInterval = retryInterval
        self.logger = logger
        self.now = now
    }

    public nonisolated var providerName: String { base.providerName }

    public func credentials() async throws -> AWSCredentials {
        let now = now()
        switch policy.decide(cached, now: now) {
        case .useCached:
            return cached!
        case .useCachedAndRefresh:
            if inFlight == nil && (noBackgroundRefreshBefore.map { now >= $0 } ?? true) {
                _ = startRefresh(background: true)
            }
            return cached!
        case .refresh:
            let task = inFlight ?? startRefresh(background: false)
            do {
                return try await task.value
            } catch {
                if let cached, !cached.expires(within: 0, of: self.now()) {
                    logger.error(
                        "credential refresh failed; using the cached credentials until they expire",
                        metadata: ["aws.credentials.provider": "\(base.providerName)", "error": "\(error)"])
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
        noBackgroundRefreshBefore = nil
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
            cached = fresh
            noBackgroundRefreshBefore = nil
            logger.debug(
                "credentials refreshed",
                metadata: [
                    "aws.credentials.provider": "\(base.providerName)",
                    "aws.credentials.expiration": "\(fresh.expiration.map { "\($0)" } ?? "never")",
                ])
        case .failure(let error):
            noBackgroundRefreshBefore = now().addingTimeInterval(retryInterval)
            // A foreground failure reaches the caller as an error; only a background one needs a log line.
            guard background else { return }
            logger.warning(
                "background credential refresh failed; still using the cached credentials",
                metadata: ["aws.credentials.provider": "\(base.providerName)", "error": "\(error)"])
        }
    }
}
