import Crypto
import Foundation

/// AWS Signature Version 4 header signing, as a pure function of the request, the credentials and
/// the date.
///
/// Pure so it can be tested byte for byte against AWS's and botocore's vectors and used from any
/// task; the only state is a shared cache of derived signing keys. Tuned for the hot path: bytes
/// instead of strings, hand-written hex and date formatting, one SHA-256 of the body.
public struct SigV4Signer: Sendable {
    /// Variations AWS's test suite exercises; the defaults are what non-S3 services like Personalize want.
    public struct Options: Sendable, Equatable {
        /// Remove `.`/`..` segments and duplicate slashes from the path before encoding it (not for S3).
        public var normalizesPath: Bool
        /// Sign `X-Amz-Security-Token`; when `false` it is still returned, just added after signing
        /// (a few services need that; Personalize does not).
        public var signsSessionToken: Bool
        /// Send and sign `X-Amz-Content-SHA256` with the payload hash (S3 style; botocore does not for
        /// Personalize).
        public var addsContentSHA256Header: Bool

        public init(
            normalizesPath: Bool = true, signsSessionToken: Bool = true, addsContentSHA256Header: Bool = false
        ) {
            self.normalizesPath = normalizesPath
            self.signsSessionToken = signsSessionToken
            self.addsContentSHA256Header = addsContentSHA256Header
        }
    }

    /// The signing name of the service: `personalize` for Personalize Events (not the host prefix).
    public let service: String
    public let region: String
    public let options: Options
    /// `/{region}/{service}/aws4_request`, the credential scope after the date.
    private let scopeSuffix: [UInt8]
    private let keyCache: SigningKeyCache

    public init(service: String, region: String, options: Options = Options()) {
        self.service = service
        self.region = region
        self.options = options
        self.scopeSuffix = Array("/\(region)/\(service)/aws4_request".utf8)
        self.keyCache = SigningKeyCache(region: region, service: service)
    }

    // MARK: - Signing

    /// Signs a request and returns the headers to add to it: `X-Amz-Date`, `X-Amz-Security-Token`
    /// when the credentials carry a token, `X-Amz-Content-SHA256` when that option is on, and
    /// `Authorization`.
    ///
    /// - Parameters:
    ///   - path: the path as sent on the wire (already percent-encoded, without `?query`).
    ///   - query: the query as sent (without `?`), or `""`.
    ///   - headers: the headers to sign, e.g. `host` (required) and `content-type`. `authorization`,
    ///     `x-amz-date`, `x-amz-security-token`, `user-agent`, `expect`, `transfer-encoding` and
    ///     `x-amzn-trace-id` are ignored.
    ///   - body: the exact body bytes (`[UInt8]`, `Data`, ...); hashed once with SHA-256.
    public func sign(
        method: String, path: String, query: String, headers: [(name: String, value: String)],
        body: some ContiguousBytes, credentials: AWSCredentials, date: Date
    ) -> [(name: String, value: String)] {
        sign(
            method: method, path: path, query: query, headers: headers,
            payloadHash: Self.payloadHash(body), credentials: credentials, date: date
        )
    }

    /// Signs a request whose payload hash (lower-case hex SHA-256) is already known.
    public func sign(
        method: String, path: String, query: String, headers: [(name: String, value: String)],
        payloadHash: String, credentials: AWSCredentials, date: Date
    ) -> [(name: String, value: String)] {
        let amzDate = AmzDate(date)
        let (canonical, signedNames) = canonicalRequestBytes(
            method: method, path: path, query: query, headers: headers,
            payloadHash: payloadHash, credentials: credentials, amzDate: amzDate
        )
        return signedHeaders(
            canonical: canonical, signedNames: signedNames, payloadHash: payloadHash, credentials: credentials,
            amzDate: amzDate)
    }

    /// The headers `sign` returns, from the canonical request.
    func signedHeaders(
        canonical: [UInt8], signedNames: [UInt8], payloadHash: String, credentials: AWSCredentials, amzDate: AmzDate
    ) -> [(name: String, value: String)] {
        var authorization: [UInt8] = []
        appendAuthorization(
            canonical: canonical, signedNames: signedNames, credentials: credentials, amzDate: amzDate,
            to: &authorization)
        var result: [(name: String, value: String)] = [(Self.dateHeader, amzDate.timestamp)]
        if let token = credentials.sessionToken {
            result.append((Self.tokenHeader, token))
        }
        if options.addsContentSHA256Header {
            result.append(("X-Amz-Content-SHA256", payloadHash))
        }
        result.append((Self.authorizationHeader, String(decoding: authorization, as: UTF8.self)))
        return result
    }

    /// The names `sign` gives the headers it adds.
    static let dateHeader = "X-Amz-Date"
    static let tokenHeader = "X-Amz-Security-Token"
    static let authorizationHeader = "Authorization"

    /// `AWS4-HMAC-SHA256 Credential={key id}/{scope}, SignedHeaders={names}, Signature={hex}`, the value of the
    /// `Authorization` header for the canonical request.
    func appendAuthorization(
        canonical: [UInt8], signedNames: [UInt8], credentials: AWSCredentials, amzDate: AmzDate,
        to out: inout [UInt8]
    ) {
        appendAuthorization(
            canonicalHash: SHA256.hash(data: canonical), signedNames: signedNames, credentials: credentials,
            amzDate: amzDate, to: &out)
    }

    /// ``appendAuthorization(canonical:signedNames:credentials:amzDate:to:)`` for a canonical request already
    /// hashed (the general signer, which the AWS suite and the botocore vectors test, goes through here too): the
    /// string to sign is laid out on the stack and goes into the keyed HMAC in one update, the signature's hex
    /// straight into `out`.
    func appendAuthorization(
        canonicalHash: SHA256Digest, signedNames: [UInt8], credentials: AWSCredentials, amzDate: AmzDate,
        to out: inout [UInt8]
    ) {
        var hmac = keyCache.keyedHMAC(for: credentials, date: amzDate)
        // The string to sign, on the stack, in one update.
        withUnsafeTemporaryAllocation(byteCount: Self.algorithmLine.count + scopeSuffix.count + 112, alignment: 1) {
            var w = ByteScratch($0)
            w.append(Self.algorithmLine)
            w.append(amzDate.bytes)
            w.append(UInt8(ascii: "\n"))
            w.append(amzDate.dateStamp)
            w.append(scopeSuffix)
            w.append(UInt8(ascii: "\n"))
            ByteEncoding.withHex(of: canonicalHash) { w.append($0) }
            hmac.update(data: w.written)
        }
        let mac = hmac.finalize()
        out.reserveCapacity(out.count + 200 + signedNames.count)
        out.append(contentsOf: "AWS4-HMAC-SHA256 Credential=".utf8)
        out.append(contentsOf: credentials.accessKeyId.utf8)
        out.append(UInt8(ascii: "/"))
        out.append(contentsOf: amzDate.dateStamp)
        out.append(contentsOf: scopeSuffix)
        out.append(contentsOf: ", SignedHeaders=".utf8)
        out.append(contentsOf: signedNames)
        out.append(contentsOf: ", Signature=".utf8)
        ByteEncoding.withHex(of: mac) { out.append(contentsOf: $0) }
    }

    static let algorithmLine = Array("AWS4-HMAC-SHA256\n".utf8)
    static let dateLinePrefix = Array("x-amz-date:".utf8)
    static let tokenLinePrefix = Array("x-amz-security-token:".utf8)

    /// The lower-case hex SHA-256 of a body, as used in the canonical request.
    public static func payloadHash(_ body: some ContiguousBytes) -> String {
        var hasher = SHA256()
        body.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return ByteEncoding.hex(hasher.finalize())
    }

    // MARK: - Intermediate strings (for tests and debugging)

    /// The canonical request `sign` would build, including the headers the signer adds.
    public func canonicalRequest(
        method: String, path: String, query: String, headers: [(name: String, value: String)],
        payloadHash: String, credentials: AWSCredentials, date: Date
    ) -> String {
        let bytes = canonicalRequestBytes(
            method: method, path: path, query: query, headers: headers,
            payloadHash: payloadHash, credentials: credentials, amzDate: AmzDate(date)
        ).canonical
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `AWS4-HMAC-SHA256\n{X-Amz-Date}\n{scope}\n{hex SHA-256 of the canonical request}`.
    public func stringToSign(canonicalRequest: String, date: Date) -> String {
        let bytes = stringToSignBytes(canonicalRequest: Array(canonicalRequest.utf8), amzDate: AmzDate(date))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The hex HMAC-SHA256 of `stringToSign` under the derived signing key.
    public func signature(stringToSign: String, credentials: AWSCredentials, date: Date) -> String {
        let bytes = signatureBytes(
            stringToSign: Array(stringToSign.utf8), credentials: credentials, amzDate: AmzDate(date)
        )
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `yyyyMMdd/{region}/{service}/aws4_request`.
    public func credentialScope(date: Date) -> String {
        String(decoding: AmzDate(date).dateStamp + scopeSuffix, as: UTF8.self)
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC, the `X-Amz-Date` value for `date`.
    public static func amzDate(_ date: Date) -> String {
        AmzDate(date).timestamp
    }

    // MARK: - Byte-level steps

    private func canonicalRequestBytes(
        method: String, path: String, query: String, headers: [(name: String, value: String)],
        payloadHash: String, credentials: AWSCredentials, amzDate: AmzDate
    ) -> (canonical: [UInt8], signedNames: [UInt8]) {
        var toSign = signableHeaders(headers)
        toSign.append(CanonicalHeader(name: Self.dateName, value: amzDate.bytes))
        if let token = credentials.sessionToken, options.signsSessionToken {
            toSign.append(CanonicalHeader(name: Self.tokenName, value: Self.normalizedValue(token.utf8)))
        }
        if options.addsContentSHA256Header {
            toSign.append(CanonicalHeader(name: Self.contentSHA256Name, value: Array(payloadHash.utf8)))
        }

        var out: [UInt8] = []
        out.reserveCapacity(512)
        appendRequestLines(method: method, path: path, query: query, to: &out)
        let signedNames = Self.appendHeaderBlock(Self.canonicalHeaders(toSign), to: &out)
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: signedNames)
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: payloadHash.utf8)
        return (out, signedNames)
    }

    private func stringToSignBytes(canonicalRequest: [UInt8], amzDate: AmzDate) -> [UInt8] {
        var out = Array("AWS4-HMAC-SHA256\n".utf8)
        out.reserveCapacity(160)
        out.append(contentsOf: amzDate.bytes)
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: amzDate.dateStamp)
        out.append(contentsOf: scopeSuffix)
        out.append(UInt8(ascii: "\n"))
        ByteEncoding.appendHex(SHA256.hash(data: canonicalRequest), to: &out)
        return out
    }

    private func signatureBytes(stringToSign: [UInt8], credentials: AWSCredentials, amzDate: AmzDate) -> [UInt8] {
        var hmac = keyCache.keyedHMAC(for: credentials, date: amzDate)
        hmac.update(data: stringToSign)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        ByteEncoding.appendHex(hmac.finalize(), to: &out)
        return out
    }
}
