import AWSSigV4
import AsyncHTTPClient
import Foundation
import JSON
import Logging
import NIOCore
import NIOHTTP1

/// Credentials of the EC2 instance's role, from the instance metadata service (IMDSv2).
///
/// The last link of the chain, so it must fail fast where there is no IMDS (a laptop): each request
/// gets a one-second budget and one retry, and an unreachable service or an instance without a role
/// is `credentialsNotFound`. `AWS_EC2_METADATA_DISABLED=true` skips it; `AWS_EC2_METADATA_SERVICE_ENDPOINT`
/// moves it. If the token request is refused (403/404/405: IMDSv2 unavailable) it falls back to
/// IMDSv1 as the SDKs do, unless `AWS_EC2_METADATA_V1_DISABLED=true`.
public struct InstanceMetadataCredentialProvider: CredentialProvider {
    public let environment: [String: String]
    /// Time allowed for one request, connection included.
    public let timeout: TimeAmount
    /// Requests made per step before giving up (transport errors and 5xx are retried).
    public let attempts: Int
    private let http: CredentialHTTP

    /// The session token lifetime asked for; the SDKs' six hours.
    static let tokenTTLSeconds = 21_600
    static let credentialsPath = "/latest/meta-data/iam/security-credentials/"

    public init(
        environment: [String: String], httpClient: HTTPClient, logger: Logger,
        timeout: TimeAmount = .seconds(1), attempts: Int = 2
    ) {
        self.environment = environment
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.http = CredentialHTTP(client: httpClient, logger: logger)
    }

    public var providerName: String { "EC2 instance metadata" }

    /// `http://169.254.169.254` unless `AWS_EC2_METADATA_SERVICE_ENDPOINT` says otherwise (no trailing slash).
    public var endpoint: String {
        var base = nonEmpty(environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"]) ?? "http://169.254.169.254"
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    public func credentials() async throws -> AWSCredentials {
        if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" {
            throw AWSSigV4Error.credentialsNotFound(source: providerName, detail: "AWS_EC2_METADATA_DISABLED is true")
        }
        let token = try await sessionToken()
        let headers: [(name: String, value: String)] = token.map { [("X-aws-ec2-metadata-token", $0)] } ?? []

        let listURL = endpoint + Self.credentialsPath
        let list = try await fetch(.GET, url: listURL, headers: headers)
        if list.status == 404 {
            throw AWSSigV4Error.credentialsNotFound(
                source: providerName, detail: "the instance has no IAM role (\(listURL) answered 404)")
        }
        guard list.status == 200 else { throw statusError(list.status, url: listURL) }
        guard let role = list.text.split(whereSeparator: \.isNewline).first.map(String.init), !role.isEmpty else {
            throw AWSSigV4Error.credentialsNotFound(
                source: providerName, detail: "the instance has no IAM role (\(listURL) listed none)")
        }

        let roleURL = listURL + STSClient.percentEncode(role)
        let answer = try await fetch(.GET, url: roleURL, headers: headers)
        guard answer.status == 200 else { throw statusError(answer.status, url: roleURL) }
        if let document = try? JSONParser.parse(answer.body), let code = document["Code"]?.stringValue,
            code != "Success"
        {
            throw CredentialProviderError.invalidResponse(
                providerName, url: roleURL, reason: "Code is '\(code)' instead of 'Success'")
        }
        return try ContainerCredentialProvider.parse(answer.body, provider: providerName, url: roleURL)
    }

    // MARK: - Steps

    /// The IMDSv2 session token, or `nil` to go on with IMDSv1.
    private func sessionToken() async throws -> String? {
        let url = endpoint + "/latest/api/token"
        let answer = try await fetch(
            .PUT, url: url, headers: [("X-aws-ec2-metadata-token-ttl-seconds", String(Self.tokenTTLSeconds))])
        switch answer.status {
        case 200:
            let token = answer.text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else {
                throw CredentialProviderError.invalidResponse(providerName, url: url, reason: "empty session token")
            }
            return token
        case 403, 404, 405:
            // `where` on a multi-pattern case binds only the last pattern, hence the `if`.
            if environment["AWS_EC2_METADATA_V1_DISABLED"]?.lowercased() != "true" { return nil }
            throw statusError(answer.status, url: url)
        default:
            throw statusError(answer.status, url: url)
        }
    }

    /// One request with retries; a service that never answers is "not found" so the chain ends quickly.
    private func fetch(
        _ method: HTTPMethod, url: String, headers: [(name: String, value: String)]
    ) async throws -> CredentialHTTP.Answer {
        var lastFailure = ""
        for attempt in 1...attempts {
            do {
                let answer = try await http.send(method, url: url, headers: headers, timeout: timeout)
                if answer.status >= 500 && attempt < attempts { continue }
                return answer
            } catch {
                try Task.checkCancellation()
                lastFailure = "\(error)"
            }
        }
        throw AWSSigV4Error.credentialsNotFound(
            source: providerName, detail: "no instance metadata service at \(url) (\(lastFailure))")
    }

    private func statusError(_ status: Int, url: String) -> CredentialProviderError {
        CredentialProviderError.httpStatus(
            providerName, url: url, status: status,
            hint: status == 401
                ? "the IMDSv2 session token was refused; check the instance's metadata options (hop limit)"
                : "check the instance profile and the instance's metadata options")
    }
}
