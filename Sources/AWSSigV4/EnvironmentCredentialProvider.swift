import Foundation

/// Credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and optional `AWS_SESSION_TOKEN`,
/// the first link of every AWS SDK's chain.
///
/// The environment is injected so tests need not mutate the process's. Empty variables count as
/// unset; one key without the other is an error rather than a silent fall-through, because that is
/// almost always a typo the user wants to hear about.
public struct EnvironmentCredentialProvider: CredentialProvider {
    public let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public var providerName: String { "environment" }

    public func credentials() async throws -> AWSCredentials {
        let accessKeyId = AWSSharedConfig.nonEmpty(environment["AWS_ACCESS_KEY_ID"])
        let secret = AWSSharedConfig.nonEmpty(environment["AWS_SECRET_ACCESS_KEY"])
        switch (accessKeyId, secret) {
        case (nil, nil):
            throw AWSSigV4Error.credentialsNotFound(
                source: providerName, detail: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"
            )
        case (.some, nil):
            throw AWSSigV4Error.partialCredentials(
                source: providerName, present: "AWS_ACCESS_KEY_ID", missing: "AWS_SECRET_ACCESS_KEY"
            )
        case (nil, .some):
            throw AWSSigV4Error.partialCredentials(
                source: providerName, present: "AWS_SECRET_ACCESS_KEY", missing: "AWS_ACCESS_KEY_ID"
            )
        case (.some(let accessKeyId), .some(let secret)):
            let token =
                AWSSharedConfig.nonEmpty(environment["AWS_SESSION_TOKEN"])
                ?? AWSSharedConfig.nonEmpty(environment["AWS_SECURITY_TOKEN"])  // legacy name botocore still reads
            return AWSCredentials(accessKeyId: accessKeyId, secretAccessKey: secret, sessionToken: token)
        }
    }
}
