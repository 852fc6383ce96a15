import AWSSigV4
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// Credentials for a role assumed with STS `AssumeRole`, signed with source credentials.
///
/// Configured either by a profile (`role_arn` with `source_profile` or `credential_source`, plus
/// optional `external_id`, `role_session_name`, `duration_seconds`), resolved from the shared files
/// on every call so edits take effect, or explicitly with a source provider. Source profiles may
/// themselves assume roles; loops are reported instead of recursing forever.
public struct AssumeRoleCredentialProvider: CredentialProvider {
    /// The role and the optional parameters of the `AssumeRole` call.
    public struct Role: Sendable, Equatable {
        public var roleArn: String
        /// `nil`: a unique `personalize-tail-<milliseconds>` name.
        public var sessionName: String?
        public var externalId: String?
        public var durationSeconds: Int?

        public init(roleArn: String, sessionName: String? = nil, externalId: String? = nil, durationSeconds: Int? = nil)
        {
            self.roleArn = roleArn
            self.sessionName = sessionName
            self.externalId = externalId
            self.durationSeconds = durationSeconds
        }
    }

    enum Mode: Sendable {
        case profile(String?)
        case explicit(Role, any CredentialProvider)
    }

    let mode: Mode
    public let environment: [String: String]
    /// The STS region; `nil` for `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's, else `us-east-1`.
    public let region: String?
    let httpClient: HTTPClient
    let logger: Logger
    let now: @Sendable () -> Date

    /// Assumes the role of `profile` (`nil`: `AWS_PROFILE`, else `default`); `credentialsNotFound` when
    /// that profile has no `role_arn` with `source_profile` or `credential_source`.
    public init(
        profile: String?, environment: [String: String], httpClient: HTTPClient, logger: Logger,
        region: String? = nil, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.init(
            mode: .profile(profile), environment: environment, httpClient: httpClient, logger: logger, region: region,
            now: now)
    }

    /// Assumes `role` with the credentials of `source`.
    public init(
        role: Role, source: any CredentialProvider, environment: [String: String], httpClient: HTTPClient,
        logger: Logger, region: String? = nil, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.init(
            mode: .explicit(role, source), environment: environment, httpClient: httpClient, logger: logger,
            region: region, now: now)
    }

    init(
        mode: Mode, environment: [String: String], httpClient: HTTPClient, logger: Logger, region: String?,
        now: @escaping @Sendable () -> Date
    ) {
        self.mode = mode
        self.environment = environment
        self.httpClient = httpClient
        self.logger = logger
        self.region = region
        self.now = now
    }

    public var providerName: String {
        switch mode {
        case .profile(let name): "assume role of profile '\(profileName(name))'"
        case .explicit(let role, _): "assume role \(role.roleArn)"
        }
    }

    func profileName(_ name: String?) -> String {
        name ?? nonEmpty(environment["AWS_PROFILE"]) ?? "default"
    }

    public func credentials() async throws -> AWSCredentials {
        let config = try AWSSharedConfig.load(environment: environment)
        let plan: Plan
        var stsProfile: String?
        switch mode {
        case .explicit(let role, let source):
            plan = .role(role, profile: nil, source: .provider(source))
        case .profile(let name):
            stsProfile = profileName(name)
            plan = try rootPlan(profile: profileName(name), config: config)
        }
        let sts = STSClient.make(
            region: region, profile: stsProfile, config: config, environment: environment,
            http: CredentialHTTP(client: httpClient, logger: logger), timeout: .seconds(10), now: now)
        return try await execute(plan, sts: sts)
    }

    /// Source credentials first, then each role in turn, innermost source first.
    private func execute(_ plan: Plan, sts: STSClient) async throws -> AWSCredentials {
        switch plan {
        case .provider(let provider):
            do {
                return try await provider.credentials()
            } catch let error as AWSSigV4Error where error.isCredentialsNotFound {
                // Not a reason to move on in the chain: the user asked for this role explicitly.
                throw CredentialProviderError.invalidConfiguration(
                    providerName, "the source credentials were not found: \(error.message)")
            }
        case .role(let role, let profile, let source):
            let sourceCredentials = try await execute(source, sts: sts)
            let name = profile.map { "assume role of profile '\($0)'" } ?? providerName
            logger.debug(
                "assuming role", metadata: ["aws.role_arn": "\(role.roleArn)", "aws.sts.endpoint": "\(sts.endpoint)"])
            return try await sts.assumeRole(
                provider: name, roleArn: role.roleArn,
                sessionName: role.sessionName ?? STSClient.defaultSessionName(now: now()),
                externalId: role.externalId, durationSeconds: role.durationSeconds, source: sourceCredentials)
        }
    }
}
