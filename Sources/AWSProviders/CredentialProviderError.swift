import Foundation

/// The one error type of the AWSProviders module: a network credential source that is configured
/// but does not work.
///
/// A source that is simply not configured throws `AWSSigV4Error.credentialsNotFound` instead, so a
/// `CredentialProviderChain` moves on. Messages name the provider, the URL or role ARN, the HTTP
/// status and the STS error code, and never contain a secret key, a session token, an
/// authorization token or a web-identity token.
public struct CredentialProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: Sendable, Equatable {
        case invalidConfiguration
        case profileCycle
        case httpStatus
        case stsError
        case invalidResponse
        case unreachable
        case tokenFileUnreadable
    }

    private let code: Code
    /// What went wrong and how to fix it.
    public let message: String
    /// The HTTP status of the failed answer, when there was one.
    public let httpStatus: Int?
    /// The STS error code (`AccessDenied`, `ExpiredTokenException`, ...), when STS answered with one.
    public let stsErrorCode: String?

    private init(_ code: Code, _ message: String, httpStatus: Int? = nil, stsErrorCode: String? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.stsErrorCode = stsErrorCode
    }

    public var description: String { message }
}

// MARK: - Constructors

extension CredentialProviderError {
    static func invalidConfiguration(_ provider: String, _ reason: String) -> Self {
        Self(.invalidConfiguration, "\(provider): \(reason)")
    }

    static func profileCycle(_ chain: [String]) -> Self {
        Self(
            .profileCycle,
            "source_profile loop in the AWS config: \(chain.map { "'\($0)'" }.joined(separator: " -> ")); "
                + "make the last profile use static keys, credential_process or credential_source"
        )
    }

    static func httpStatus(_ provider: String, url: String, status: Int, hint: String) -> Self {
        Self(.httpStatus, "\(provider): \(url) answered HTTP \(status); \(hint)", httpStatus: status)
    }

    static func sts(
        _ provider: String, action: String, roleArn: String, url: String, status: Int, code: String, message: String
    ) -> Self {
        let detail = message.isEmpty ? code : "\(code): \(message)"
        return Self(
            .stsError,
            "\(provider): STS \(action) of \(roleArn) at \(url) failed with HTTP \(status) \(detail); "
                + "check the role's trust policy and the source credentials' permissions",
            httpStatus: status, stsErrorCode: code
        )
    }

    static func invalidResponse(_ provider: String, url: String, reason: String) -> Self {
        Self(.invalidResponse, "\(provider): unusable answer from \(url): \(reason)")
    }

    static func unreachable(_ provider: String, url: String, error: any Error) -> Self {
        Self(.unreachable, "\(provider): could not reach \(url): \(error)")
    }

    static func tokenFileUnreadable(_ provider: String, variable: String, path: String) -> Self {
        Self(
            .tokenFileUnreadable,
            "\(provider): cannot read the token file \(path) (\(variable)); check that it exists and is readable"
        )
    }
}
