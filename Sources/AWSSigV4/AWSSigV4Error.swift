import Foundation

/// The one error type of the AWSSigV4 module.
///
/// Every message says what happened and what the user can do about it. Messages never contain a
/// secret access key, a session token or the output of a `credential_process` command.
public struct AWSSigV4Error: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: Sendable, Equatable {
        case credentialsNotFound
        case partialCredentials
        case profileNotFound
        case credentialProcessFailed
        case invalidCredentialProcessOutput
        case configFileInvalid
        case noCredentialsInChain
        case regionMissing
    }

    private let code: Code
    /// What went wrong and how to fix it.
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// `true` when a provider simply has nothing to offer, so a `CredentialProviderChain` should try
    /// the next one. Any other error is a misconfiguration the chain reports instead of hiding it.
    public var isCredentialsNotFound: Bool { code == .credentialsNotFound }

    /// `true` when no region could be found (see `RegionResolver`).
    public var isRegionMissing: Bool { code == .regionMissing }
}

// MARK: - Constructors

extension AWSSigV4Error {
    /// A provider found no credentials; `source` names the provider, `detail` what it looked at.
    /// Providers in other modules (container, IMDS, ...) use this so the chain moves on.
    public static func credentialsNotFound(source: String, detail: String) -> Self {
        Self(.credentialsNotFound, "\(source): \(detail)")
    }

    static func partialCredentials(source: String, present: String, missing: String) -> Self {
        Self(
            .partialCredentials,
            "\(source): \(present) is set but \(missing) is not; set both, or unset \(present) to use another source"
        )
    }

    static func profileNotFound(_ profile: String, files: [String]) -> Self {
        Self(
            .profileNotFound,
            "profile '\(profile)' was not found in \(files.joined(separator: " or ")); "
                + "add a [\(profile)] section to the credentials file or a [profile \(profile)] section "
                + "to the config file, or set AWS_PROFILE to an existing profile"
        )
    }

    static func credentialProcessFailed(profile: String, reason: String) -> Self {
        Self(
            .credentialProcessFailed,
            "credential_process of profile '\(profile)' failed: \(reason); "
                + "run the command by hand to see what it needs, or fix credential_process in the config file"
        )
    }

    static func invalidCredentialProcessOutput(profile: String, reason: String) -> Self {
        Self(
            .invalidCredentialProcessOutput,
            "credential_process of profile '\(profile)' printed unusable output: \(reason); it must print JSON "
                + #"{"Version": 1, "AccessKeyId": ..., "SecretAccessKey": ..., "SessionToken"?: ..., "#
                + #""Expiration"?: "ISO 8601"}"#
        )
    }

    static func configFileInvalid(path: String, line: Int, reason: String) -> Self {
        Self(.configFileInvalid, "\(path):\(line): \(reason); fix or remove that line")
    }

    static func noCredentials(tried: [String]) -> Self {
        var text = "no AWS credentials found. Tried, in order:\n"
        for attempt in tried {
            text += "  - \(attempt)\n"
        }
        text += "To fix: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys), "
        text += "or set AWS_PROFILE to a profile in ~/.aws/credentials or ~/.aws/config "
        text += "(AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE move those files), "
        text += "or run where a role is available (container or EC2 instance role)."
        return Self(.noCredentialsInChain, text)
    }

    static func regionMissing(profile: String) -> Self {
        Self(
            .regionMissing,
            "no AWS region configured; set the region in the agent's configuration, or AWS_REGION, "
                + "or AWS_DEFAULT_REGION, or `region = ...` in profile '\(profile)' of ~/.aws/config"
        )
    }
}
