import Foundation

/// Tries providers in order and returns the first credentials found, like the SDKs' default chain.
///
/// A provider that is simply not configured (`AWSSigV4Error.isCredentialsNotFound`) is skipped and
/// remembered for the final message; any other error (a malformed file, a failing
/// `credential_process`) stops the chain, because falling through would hide a misconfiguration
/// and might pick up different credentials than the user meant.
public struct CredentialProviderChain: CredentialProvider {
    public let providers: [any CredentialProvider]

    public init(_ providers: [any CredentialProvider]) {
        self.providers = providers
    }

    /// The local links of the standard chain: environment, then the shared files' profile. Network
    /// providers (container, EC2 metadata, STS) are appended by the modules that own HTTP.
    public static func local(environment: [String: String] = ProcessInfo.processInfo.environment) -> Self {
        Self([
            EnvironmentCredentialProvider(environment: environment),
            ProfileCredentialProvider(environment: environment),
        ])
    }

    public var providerName: String { "credential provider chain" }

    public func credentials() async throws -> AWSCredentials {
        var tried: [String] = []
        for provider in providers {
            do {
                return try await provider.credentials()
            } catch let error as AWSSigV4Error where error.isCredentialsNotFound {
                tried.append(error.message)
            }
        }
        throw AWSSigV4Error.noCredentials(tried: tried.isEmpty ? ["(no credential providers configured)"] : tried)
    }
}
