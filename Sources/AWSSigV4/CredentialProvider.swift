import Foundation

/// Something that can produce AWS credentials: the environment, the shared files, a container or
/// instance metadata endpoint. A protocol because these are I/O edges that tests replace.
///
/// Throw `AWSSigV4Error.credentialsNotFound(source:detail:)` when the source simply is not
/// configured, so a `CredentialProviderChain` goes on to the next provider; throw anything else for
/// a source that is configured but broken, which the chain reports rather than hides.
public protocol CredentialProvider: Sendable {
    func credentials() async throws -> AWSCredentials

    /// A short name for error messages ("environment", "profile default", ...).
    var providerName: String { get }

    /// Forgets cached credentials, so the next call fetches fresh ones (after the service refused them).
    func invalidate() async
}

extension CredentialProvider {
    public var providerName: String { String(describing: Self.self) }
    public func invalidate() async {}
}

/// Fixed credentials, for tests and for configurations that pass keys explicitly.
public struct StaticCredentialProvider: CredentialProvider {
    public let value: AWSCredentials

    public init(_ credentials: AWSCredentials) {
        self.value = credentials
    }

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.value = AWSCredentials(
            accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, sessionToken: sessionToken
        )
    }

    public func credentials() async throws -> AWSCredentials { value }

    public var providerName: String { "static credentials" }
}
