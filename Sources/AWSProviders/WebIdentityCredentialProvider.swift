import AWSSigV4
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// Credentials for a role assumed with an OIDC token (EKS IRSA, GitHub Actions, ...), via STS
/// `AssumeRoleWithWebIdentity`.
///
/// The token file is read on every call: the platform rotates it, and an old token would be refused.
/// The request is unsigned (the token is the proof) and the token never appears in errors or logs.
public struct WebIdentityCredentialProvider: CredentialProvider {
    /// Where the role and the token file are configured.
    public enum Source: Sendable, Equatable {
        /// `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`, `AWS_ROLE_SESSION_NAME`.
        case environment
        /// A profile's `web_identity_token_file`, `role_arn`, `role_session_name`, `duration_seconds`
        /// (`nil`: `AWS_PROFILE`, else `default`).
        case profile(String?)
        /// Given explicitly.
        case explicit(tokenFile: String, roleArn: String, roleSessionName: String?)
    }

    public let source: Source
    public let environment: [String: String]
    /// The STS region; `nil` for `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's, else `us-east-1`.
    public let region: String?
    private let http: CredentialHTTP
    private let now: @Sendable () -> Date

    public init(
        source: Source, environment: [String: String], httpClient: HTTPClient, logger: Logger,
        region: String? = nil, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.source = source
        self.environment = environment
        self.region = region
        self.http = CredentialHTTP(client: httpClient, logger: logger)
        self.now = now
    }

    public var providerName: String {
        switch source {
        case .environment: "web identity (AWS_WEB_IDENTITY_TOKEN_FILE)"
        case .profile(let name): "web identity of profile '\(profileName(name))'"
        case .explicit: "web identity"
        }
    }

    struct Settings: Equatable {
        var tokenFile: String
        var roleArn: String
        var sessionName: String?
        var durationSeconds: Int?
        var profile: String?
    }

    public func credentials() async throws -> AWSCredentials {
        let config = try AWSSharedConfig.load(environment: environment)
        let settings = try resolve(config: config)
        guard let data = FileManager.default.contents(atPath: settings.tokenFile) else {
            throw CredentialProviderError.tokenFileUnreadable(
                providerName, variable: tokenFileVariable, path: settings.tokenFile)
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw CredentialProviderError.invalidConfiguration(
                providerName, "the token file \(settings.tokenFile) is empty")
        }
        let sts = STSClient.make(
            region: region, profile: settings.profile, config: config, environment: environment, http: http,
            timeout: .seconds(10), now: now)
        return try await sts.assumeRoleWithWebIdentity(
            provider: providerName, roleArn: settings.roleArn,
            sessionName: settings.sessionName ?? STSClient.defaultSessionName(now: now()), token: token,
            durationSeconds: settings.durationSeconds)
    }

    // MARK: - Configuration

    private var tokenFileVariable: String {
        source == .environment ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "web_identity_token_file"
    }

    private func profileName(_ name: String?) -> String {
        name ?? nonEmpty(environment["AWS_PROFILE"]) ?? "default"
    }

    /// What to ask for; `credentialsNotFound` when this source is not configured.
    func resolve(config: AWSSharedConfig) throws -> Settings {
        switch source {
        case .explicit(let tokenFile, let roleArn, let sessionName):
            return Settings(tokenFile: tokenFile, roleArn: roleArn, sessionName: sessionName)
        case .environment:
            guard let tokenFile = nonEmpty(environment["AWS_WEB_IDENTITY_TOKEN_FILE"]) else {
                throw AWSSigV4Error.credentialsNotFound(
                    source: providerName, detail: "AWS_WEB_IDENTITY_TOKEN_FILE is not set")
            }
            guard let roleArn = nonEmpty(environment["AWS_ROLE_ARN"]) else {
                throw CredentialProviderError.invalidConfiguration(
                    providerName, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not; set both or neither")
            }
            return Settings(
                tokenFile: tokenFile, roleArn: roleArn, sessionName: nonEmpty(environment["AWS_ROLE_SESSION_NAME"]))
        case .profile(let name):
            let profile = profileName(name)
            guard let values = config.profile(profile), let tokenFile = nonEmpty(values["web_identity_token_file"])
            else {
                throw AWSSigV4Error.credentialsNotFound(
                    source: providerName, detail: "the profile has no web_identity_token_file")
            }
            guard let roleArn = nonEmpty(values["role_arn"]) else {
                throw CredentialProviderError.invalidConfiguration(
                    providerName, "web_identity_token_file is set but role_arn is not; add role_arn to the profile")
            }
            return Settings(
                tokenFile: tokenFile, roleArn: roleArn, sessionName: nonEmpty(values["role_session_name"]),
                durationSeconds: try durationSeconds(values["duration_seconds"]), profile: profile)
        }
    }

    private func durationSeconds(_ text: String?) throws -> Int? {
        guard let text = nonEmpty(text) else { return nil }
        guard let value = Int(text), value > 0 else {
            throw CredentialProviderError.invalidConfiguration(
                providerName, "duration_seconds '\(text)' is not a positive whole number of seconds")
        }
        return value
    }
}
