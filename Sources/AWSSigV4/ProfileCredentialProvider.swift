import Foundation

/// Credentials of a named profile in the shared AWS files, as the SDKs resolve them: static keys
/// from the credentials file, then `credential_process`, then static keys from the config file.
///
/// Files are read on every call so edits (and `aws configure`) take effect without a restart; the
/// caller caches credentials. Profiles that only use `role_arn`, SSO or `web_identity_token_file`
/// need network providers that live elsewhere, so they count as "not found" here and the chain
/// moves on.
public struct ProfileCredentialProvider: CredentialProvider {
    /// The profile asked for explicitly, or `nil` for `AWS_PROFILE`, else `default`.
    public let profile: String?
    public let environment: [String: String]

    public init(profile: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.profile = profile
        self.environment = environment
    }

    /// The profile that will be read.
    public var profileName: String {
        profile ?? AWSSharedConfig.nonEmpty(environment["AWS_PROFILE"]) ?? "default"
    }

    public var providerName: String { "profile '\(profileName)'" }

    public func credentials() async throws -> AWSCredentials {
        let config = try AWSSharedConfig.load(environment: environment)
        let name = profileName
        let files = [config.credentialsFilePath, config.configFilePath]
        guard let merged = config.profile(name) else {
            // A profile the user named must exist; the implicit `default` may simply be absent.
            if profile != nil || AWSSharedConfig.nonEmpty(environment["AWS_PROFILE"]) != nil {
                throw AWSSigV4Error.profileNotFound(name, files: files)
            }
            throw AWSSigV4Error.credentialsNotFound(
                source: providerName, detail: "no such profile in \(files.joined(separator: " or "))"
            )
        }
        if let credentials = try staticKeys(config.credentialsFileProfiles[name], file: config.credentialsFilePath) {
            return credentials
        }
        if let command = AWSSharedConfig.nonEmpty(merged["credential_process"]) {
            return try await CredentialProcess.run(command: command, profile: name)
        }
        if let credentials = try staticKeys(config.configFileProfiles[name], file: config.configFilePath) {
            return credentials
        }
        var detail = "the profile has neither aws_access_key_id/aws_secret_access_key nor credential_process"
        let elsewhere = ["role_arn", "sso_session", "sso_start_url", "web_identity_token_file"].filter {
            merged[$0] != nil
        }
        if !elsewhere.isEmpty {
            detail += " (\(elsewhere.joined(separator: ", ")) is not resolved by this provider)"
        }
        throw AWSSigV4Error.credentialsNotFound(source: providerName, detail: detail)
    }

    private func staticKeys(_ section: AWSSharedConfig.Section?, file: String) throws -> AWSCredentials? {
        guard let section else { return nil }
        let accessKeyId = AWSSharedConfig.nonEmpty(section["aws_access_key_id"])
        let secret = AWSSharedConfig.nonEmpty(section["aws_secret_access_key"])
        switch (accessKeyId, secret) {
        case (nil, nil):
            return nil
        case (.some(let accessKeyId), .some(let secret)):
            return AWSCredentials(
                accessKeyId: accessKeyId, secretAccessKey: secret,
                sessionToken: AWSSharedConfig.nonEmpty(section["aws_session_token"])
            )
        case (.some, nil):
            throw AWSSigV4Error.partialCredentials(
                source: "\(providerName) in \(file)", present: "aws_access_key_id", missing: "aws_secret_access_key"
            )
        case (nil, .some):
            throw AWSSigV4Error.partialCredentials(
                source: "\(providerName) in \(file)", present: "aws_secret_access_key", missing: "aws_access_key_id"
            )
        }
    }
}
