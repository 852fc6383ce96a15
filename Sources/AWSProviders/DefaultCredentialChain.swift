import AWSSigV4
import AsyncHTTPClient
import Foundation
import Logging

/// The SDKs' default credential chain, with caching and refresh: what the agent uses unless
/// credentials are configured explicitly.
public enum DefaultCredentialChain {
    /// The providers, in order, wrapped in a `RefreshingCredentialProvider`.
    ///
    /// Without `profile`: environment keys; the profile of `AWS_PROFILE` (else `default`): its role
    /// (`role_arn` with `source_profile`/`credential_source`), its web identity, then its static keys
    /// or `credential_process`; web identity from `AWS_WEB_IDENTITY_TOKEN_FILE`; the container
    /// endpoint; EC2 instance metadata. Within a profile the role comes first, as in botocore, so a
    /// profile holding both keys and `role_arn` assumes the role rather than using the keys.
    ///
    /// With `profile`: only that profile, as the SDKs do when a profile is named, so a typo in the
    /// name is an error instead of silently using the instance role.
    public static func make(
        profile: String?, environment: [String: String], httpClient: HTTPClient, logger: Logger
    ) -> any CredentialProvider {
        RefreshingCredentialProvider(
            wrapping: chain(profile: profile, environment: environment, httpClient: httpClient, logger: logger),
            logger: logger)
    }

    /// The chain without the cache, for inspection and tests.
    public static func chain(
        profile: String?, environment: [String: String], httpClient: HTTPClient, logger: Logger
    ) -> CredentialProviderChain {
        let profileProviders: [any CredentialProvider] = [
            AssumeRoleCredentialProvider(
                profile: profile, environment: environment, httpClient: httpClient, logger: logger),
            WebIdentityCredentialProvider(
                source: .profile(profile), environment: environment, httpClient: httpClient, logger: logger),
            ProfileCredentialProvider(profile: profile, environment: environment),
        ]
        if profile != nil {
            return CredentialProviderChain(profileProviders)
        }
        return CredentialProviderChain(
            [EnvironmentCredentialProvider(environment: environment)] + profileProviders + [
                WebIdentityCredentialProvider(
                    source: .environment, environment: environment, httpClient: httpClient, logger: logger),
                ContainerCredentialProvider(environment: environment, httpClient: httpClient, logger: logger),
                InstanceMetadataCredentialProvider(environment: environment, httpClient: httpClient, logger: logger),
            ])
    }
}
