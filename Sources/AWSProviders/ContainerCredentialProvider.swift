import AWSSigV4
import AsyncHTTPClient
import Foundation
import JSON
import Logging
import NIOCore

/// Credentials from the container credential endpoint of ECS tasks, EKS Pod Identity and Greengrass.
///
/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` is appended to `http://169.254.170.2`;
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` may name any https URL, or plain http only on loopback and
/// the link-local container hosts (so a misconfigured variable cannot send the authorization token
/// elsewhere in clear). The `Authorization` header comes from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`,
/// re-read on every call because EKS rotates it, else `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
public struct ContainerCredentialProvider: CredentialProvider {
    public let environment: [String: String]
    /// Time allowed for one request; the endpoint is local, so this is short.
    public let timeout: TimeAmount
    /// Requests made before giving up (transport errors and 5xx are retried).
    public let attempts: Int
    private let http: CredentialHTTP

    /// Hosts allowed over plain http besides loopback, as in the SDKs.
    static let allowedHTTPHosts: Set<String> = ["169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost"]

    public init(
        environment: [String: String], httpClient: HTTPClient, logger: Logger,
        timeout: TimeAmount = .seconds(2), attempts: Int = 2
    ) {
        self.environment = environment
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.http = CredentialHTTP(client: httpClient, logger: logger)
    }

    public var providerName: String { "container credentials" }

    public func credentials() async throws -> AWSCredentials {
        let url = try endpointURL()
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let token = try authorizationToken() {
            headers.append(("Authorization", token))
        }
        var lastError: (any Error)?
        for attempt in 1...attempts {
            let answer: CredentialHTTP.Answer
            do {
                answer = try await http.send(.GET, url: url, headers: headers, timeout: timeout)
            } catch {
                lastError = CredentialProviderError.unreachable(providerName, url: url, error: error)
                continue
            }
            if answer.status >= 500 && attempt < attempts { continue }
            guard answer.status == 200 else {
                throw CredentialProviderError.httpStatus(
                    providerName, url: url, status: answer.status,
                    hint: "check the task role / pod identity association and the authorization token")
            }
            return try Self.parse(answer.body, provider: providerName, url: url)
        }
        throw lastError ?? CredentialProviderError.unreachable(providerName, url: url, error: CancellationError())
    }

    // MARK: - Configuration

    /// The URL to ask; `credentialsNotFound` when neither variable is set.
    func endpointURL() throws -> String {
        if let relative = nonEmpty(environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]) {
            return "http://169.254.170.2" + (relative.hasPrefix("/") ? relative : "/" + relative)
        }
        guard let full = nonEmpty(environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"]) else {
            throw AWSSigV4Error.credentialsNotFound(
                source: providerName,
                detail: "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set")
        }
        guard let components = URLComponents(string: full), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else {
            throw CredentialProviderError.invalidConfiguration(
                providerName, "AWS_CONTAINER_CREDENTIALS_FULL_URI '\(full)' is not a URL")
        }
        guard scheme == "https" || (scheme == "http" && Self.isAllowedHTTPHost(host)) else {
            throw CredentialProviderError.invalidConfiguration(
                providerName,
                "AWS_CONTAINER_CREDENTIALS_FULL_URI '\(full)' must use https, or http on a loopback address, "
                    + "169.254.170.2, 169.254.170.23 or fd00:ec2::23")
        }
        return full
    }

    static func isAllowedHTTPHost(_ rawHost: String) -> Bool {
        let host = rawHost.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if allowedHTTPHosts.contains(host) || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// The `Authorization` value: the token file's content (re-read now), else the variable.
    func authorizationToken() throws -> String? {
        if let path = nonEmpty(environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]) {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CredentialProviderError.tokenFileUnreadable(
                    providerName, variable: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path: path)
            }
            return try validated(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return try nonEmpty(environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"]).map(validated)
    }

    /// Refuses tokens that would split the header (and never quotes the token itself).
    private func validated(_ token: String) throws -> String {
        guard !token.contains(where: { $0 == "\r" || $0 == "\n" }) else {
            throw CredentialProviderError.invalidConfiguration(
                providerName, "the container authorization token contains a line break")
        }
        return token
    }

    // MARK: - Answer

    /// `{AccessKeyId, SecretAccessKey, Token, Expiration}`; shared with the EC2 metadata provider.
    static func parse(_ body: [UInt8], provider: String, url: String) throws -> AWSCredentials {
        guard let document = try? JSONParser.parse(body), document.objectValue != nil else {
            throw CredentialProviderError.invalidResponse(provider, url: url, reason: "not a JSON object")
        }
        func field(_ name: String) throws -> String {
            guard let value = document[name]?.stringValue, !value.isEmpty else {
                throw CredentialProviderError.invalidResponse(provider, url: url, reason: "\(name) is missing")
            }
            return value
        }
        var expiration: Date?
        if let text = document["Expiration"]?.stringValue {
            guard let date = ExpirationDate.parse(text) else {
                throw CredentialProviderError.invalidResponse(
                    provider, url: url, reason: "Expiration '\(text)' is not an ISO 8601 date")
            }
            expiration = date
        }
        return AWSCredentials(
            accessKeyId: try field("AccessKeyId"), secretAccessKey: try field("SecretAccessKey"),
            sessionToken: document["Token"]?.stringValue.flatMap(nonEmpty), expiration: expiration)
    }
}
