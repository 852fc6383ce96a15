import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// Verifies AWS Signature Version 4 header signing from the request as received.
///
/// An implementation independent of the project's signer (it shares no code with `AWSSigV4`), so a bug in
/// the client's canonicalization shows up here as `InvalidSignatureException` instead of being mirrored.
/// One verifier lives per connection: it caches the last derived signing key without any locking.
struct SigV4Verifier {
    private let configuration: PersonalizeStandIn.Configuration
    private var cachedKeyScope = ""
    private var cachedKey = SymmetricKey(data: [UInt8]())

    init(configuration: PersonalizeStandIn.Configuration) {
        self.configuration = configuration
    }

    /// The authenticated access key id, or the error the real service would answer.
    mutating func verify(
        method: String, uri: String, headers: HTTPHeaders, body: ByteBuffer
    ) -> Result<String, ServiceError> {
        guard let authorization = headers.first(name: "authorization") else {
            return .failure(.missingAuthenticationToken)
        }
        let auth: AuthorizationHeader
        switch AuthorizationHeader.parse(authorization) {
        case .success(let parsed): auth = parsed
        case .failure(let error): return .failure(error)
        }
        guard let secret = configuration.credentials[auth.accessKeyId] else {
            return .failure(.unrecognizedClient)
        }
        if let error = checkScopeAndDate(auth, headers: headers) { return .failure(error) }
        if let error = checkSignedHeaders(auth, headers: headers) { return .failure(error) }
        if let error = checkSessionToken(auth, headers: headers) { return .failure(error) }

        let canonical = Self.canonicalRequest(
            method: method, uri: uri, headers: headers, signedHeaders: auth.signedHeaders, body: body)
        let amzDate = headers.first(name: "x-amz-date") ?? ""
        let scope = "\(auth.date)/\(auth.region)/\(auth.service)/\(auth.terminator)"
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(Hex.encode(SHA256.hash(data: canonical)))"
        let key = signingKey(secret: secret, accessKeyId: auth.accessKeyId, auth: auth)
        let expected = Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        guard expected == auth.signature else {
            return .failure(
                .invalidSignature(
                    Self.mismatchMessage(canonical: canonical, stringToSign: stringToSign, provided: nil)))
        }
        return .success(auth.accessKeyId)
    }

    /// AWS's answer to a signature mismatch: it quotes the canonical request (with the `x-amz-security-token`
    /// line, when there is one) and the string to sign; some services (S3) also quote the signature provided.
    static func mismatchMessage(canonical: [UInt8], stringToSign: String, provided: String?) -> String {
        let canonical = String(decoding: canonical, as: UTF8.self)
        var message =
            "The request signature we calculated does not match the signature you provided. Check your AWS "
            + "Secret Access Key and signing method. Consult the service documentation for details.\n\n"
            + "The Canonical String for this request should have been\n'\(canonical)'\n\n"
            + "The String-to-Sign should have been\n'\(stringToSign)'\n"
        if let provided { message += "\nSignatureProvided: \(provided)\n" }
        return message
    }

    /// The mismatch answer for a request that verified, as if its signature had been wrong: the stand-in's
    /// `Faults.signatureMismatchNext`, which proves the client keeps what AWS quotes out of every output.
    static func injectedMismatch(uri: String, method: String, headers: HTTPHeaders, body: ByteBuffer) -> ServiceError {
        guard let authorization = headers.first(name: "authorization"),
            case .success(let auth) = AuthorizationHeader.parse(authorization)
        else { return .invalidSignature("The request signature we calculated does not match.") }
        let canonical = canonicalRequest(
            method: method, uri: uri, headers: headers, signedHeaders: auth.signedHeaders, body: body)
        let amzDate = headers.first(name: "x-amz-date") ?? ""
        let scope = "\(auth.date)/\(auth.region)/\(auth.service)/\(auth.terminator)"
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(Hex.encode(SHA256.hash(data: canonical)))"
        return .invalidSignature(
            mismatchMessage(canonical: canonical, stringToSign: stringToSign, provided: auth.signature))
    }

    // MARK: Checks before the signature

    private func checkScopeAndDate(_ auth: AuthorizationHeader, headers: HTTPHeaders) -> ServiceError? {
        guard let amzDate = headers.first(name: "x-amz-date") else {
            return .incompleteSignature(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        }
        guard let signedAt = AmzDate.secondsSince1970(amzDate) else {
            return .incompleteSignature("X-Amz-Date '\(amzDate)' must be in the form yyyyMMdd'T'HHmmss'Z'.")
        }
        guard amzDate.hasPrefix(auth.date) && auth.date.utf8.count == 8 else {
            return .invalidSignature(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                    + "'\(auth.date)' != '\(amzDate.prefix(8))', from '\(amzDate)'.")
        }
        guard auth.region == configuration.region else {
            return .invalidSignature(
                "Credential should be scoped to a valid region, not '\(auth.region)'. "
                    + "The stand-in expects '\(configuration.region)'.")
        }
        guard auth.service == configuration.service else {
            return .invalidSignature(
                "Credential should be scoped to correct service: '\(configuration.service)'. ")
        }
        guard auth.terminator == "aws4_request" else {
            return .invalidSignature(
                "Credential should be scoped with a valid terminator: 'aws4_request', not '\(auth.terminator)'.")
        }
        let now = configuration.now().timeIntervalSince1970
        if abs(now - signedAt) > configuration.maxClockSkew {
            let limit = AmzDate.format(now - configuration.maxClockSkew)
            return .requestExpired(
                signedAt < now
                    ? "Signature expired: \(amzDate) is now earlier than \(limit) (\(AmzDate.format(now)) - "
                        + "\(Int(configuration.maxClockSkew)) s.)"
                    : "Signature not yet current: \(amzDate) is still later than "
                        + "\(AmzDate.format(now + configuration.maxClockSkew)).")
        }
        return nil
    }

    private func checkSignedHeaders(_ auth: AuthorizationHeader, headers: HTTPHeaders) -> ServiceError? {
        let names = auth.signedHeaders
        let ordered = zip(names, names.dropFirst()).allSatisfy { $0 < $1 }
        guard ordered, names.allSatisfy({ !$0.utf8.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") } })
        else {
            return .invalidSignature(
                "SignedHeaders '\(names.joined(separator: ";"))' must be lower-case, sorted and without duplicates.")
        }
        for required in ["host", "x-amz-date"] where !names.contains(required) {
            return .invalidSignature("'\(required)' must be a 'SignedHeader' in the AWS Authorization.")
        }
        if headers.contains(name: "x-amz-security-token") && !names.contains("x-amz-security-token") {
            return .invalidSignature("'x-amz-security-token' is present but not a 'SignedHeader'.")
        }
        for name in names where !headers.contains(name: name) {
            return .invalidSignature("Signed header '\(name)' is not present in the request.")
        }
        return nil
    }

    private func checkSessionToken(_ auth: AuthorizationHeader, headers: HTTPHeaders) -> ServiceError? {
        let token = headers.first(name: "x-amz-security-token")
        if let token, configuration.expiredTokens.contains(token) {
            return .expiredToken
        }
        if let required = configuration.requiredSessionTokens[auth.accessKeyId], token != required {
            return .unrecognizedClient
        }
        return nil
    }

    // MARK: Signing key

    private mutating func signingKey(secret: String, accessKeyId: String, auth: AuthorizationHeader) -> SymmetricKey {
        let scope = "\(accessKeyId)/\(auth.date)/\(auth.region)/\(auth.service)"
        if scope == cachedKeyScope { return cachedKey }
        var key = SymmetricKey(data: Array("AWS4\(secret)".utf8))
        for part in [auth.date, auth.region, auth.service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        cachedKeyScope = scope
        cachedKey = key
        return key
    }
}
