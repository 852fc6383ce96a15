import AWSSigV4
import Foundation
import NIOCore

/// Calls STS's two credential operations (query protocol: form-encoded `POST /`, XML answers).
///
/// `AssumeRole` is signed with the source credentials (service `sts`); `AssumeRoleWithWebIdentity`
/// is unsigned, the web-identity token being the proof. The endpoint is regional by default and
/// follows the SDKs' overrides so tests and private endpoints work the same way.
struct STSClient: Sendable {
    let http: CredentialHTTP
    let region: String
    let endpoint: String
    let timeout: TimeAmount
    let now: @Sendable () -> Date

    /// The STS query API version.
    static let apiVersion = "2011-06-15"

    // MARK: - Operations

    func assumeRole(
        provider: String, roleArn: String, sessionName: String, externalId: String?, durationSeconds: Int?,
        source: AWSCredentials
    ) async throws -> AWSCredentials {
        var form = [
            ("Action", "AssumeRole"), ("Version", Self.apiVersion), ("RoleArn", roleArn),
            ("RoleSessionName", sessionName),
        ]
        if let externalId { form.append(("ExternalId", externalId)) }
        if let durationSeconds { form.append(("DurationSeconds", String(durationSeconds))) }
        return try await call(
            provider: provider, action: "AssumeRole", roleArn: roleArn, form: form, signWith: source)
    }

    func assumeRoleWithWebIdentity(
        provider: String, roleArn: String, sessionName: String, token: String, durationSeconds: Int?
    ) async throws -> AWSCredentials {
        var form = [
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", Self.apiVersion), ("RoleArn", roleArn),
            ("RoleSessionName", sessionName), ("WebIdentityToken", token),
        ]
        if let durationSeconds { form.append(("DurationSeconds", String(durationSeconds))) }
        return try await call(
            provider: provider, action: "AssumeRoleWithWebIdentity", roleArn: roleArn, form: form, signWith: nil)
    }

    // MARK: - Wire

    private func call(
        provider: String, action: String, roleArn: String, form: [(String, String)], signWith: AWSCredentials?
    ) async throws -> AWSCredentials {
        guard let components = URLComponents(string: endpoint), let host = components.host, !host.isEmpty else {
            throw CredentialProviderError.invalidConfiguration(
                provider, "the STS endpoint '\(endpoint)' is not a URL; fix AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL")
        }
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        var hostHeader = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        if let port = components.port, !Self.isDefault(port: port, scheme: components.scheme) {
            hostHeader += ":\(port)"
        }
        let url = "\(components.scheme ?? "https")://\(hostHeader)\(path)"
        let body = Array(Self.formEncode(form).utf8)
        var headers: [(name: String, value: String)] = [
            ("Host", hostHeader), ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
        ]
        if let signWith {
            let signer = SigV4Signer(service: "sts", region: region)
            headers += signer.sign(
                method: "POST", path: path, query: "", headers: headers, body: body, credentials: signWith,
                date: now())
        }
        let answer: CredentialHTTP.Answer
        do {
            answer = try await http.send(.POST, url: url, headers: headers, body: body, timeout: timeout)
        } catch {
            throw CredentialProviderError.unreachable(provider, url: url, error: error)
        }
        let text = Substring(answer.text)
        guard answer.status == 200 else {
            let signingSecrets = signWith.map { [$0.secretAccessKey] + ($0.sessionToken.map { [$0] } ?? []) } ?? []
            let error = STSXML.element("Error", in: text) ?? text
            throw CredentialProviderError.sts(
                provider, action: action, roleArn: roleArn, url: url, status: answer.status,
                code: STSXML.value(of: "Code", in: error) ?? "HTTP \(answer.status)",
                message: Redaction.redact(STSXML.value(of: "Message", in: error) ?? "", knownSecrets: signingSecrets))
        }
        return try Self.parseCredentials(text, provider: provider, url: url)
    }

    /// Reads `<Credentials>` of an `AssumeRole*Response`.
    static func parseCredentials(_ text: Substring, provider: String, url: String) throws -> AWSCredentials {
        guard let credentials = STSXML.element("Credentials", in: text) else {
            throw CredentialProviderError.invalidResponse(provider, url: url, reason: "no <Credentials> element")
        }
        func field(_ name: String) throws -> String {
            guard let value = STSXML.value(of: name, in: credentials), !value.isEmpty else {
                throw CredentialProviderError.invalidResponse(provider, url: url, reason: "<\(name)> is missing")
            }
            return value
        }
        let expirationText = try field("Expiration")
        guard let expiration = ExpirationDate.parse(expirationText) else {
            throw CredentialProviderError.invalidResponse(
                provider, url: url, reason: "<Expiration> '\(expirationText)' is not an ISO 8601 date")
        }
        return AWSCredentials(
            accessKeyId: try field("AccessKeyId"), secretAccessKey: try field("SecretAccessKey"),
            sessionToken: try field("SessionToken"), expiration: expiration)
    }

    // MARK: - Encoding

    /// `application/x-www-form-urlencoded` with RFC 3986 escaping, as botocore's query serializer does.
    static func formEncode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
    }

    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    private static func isDefault(port: Int, scheme: String?) -> Bool {
        (scheme == "https" && port == 443) || (scheme == "http" && port == 80)
    }
}
