import Crypto
import Foundation

extension SigV4Signer {
    /// A request shape signed many times: the same method, path, query and headers, with a different body and time
    /// each time (an agent posting to one endpoint).
    ///
    /// The parts of the canonical request that do not change (the URI, the query, the sorted and normalised header
    /// lines around `x-amz-date`, the signed-header list) are worked out once; each signature then only fills in the
    /// date, the session token and the payload hash. The result is byte for byte what ``sign(method:path:query:headers:payloadHash:credentials:date:)``
    /// returns for the same request (a test compares the two over many shapes); with the S3-style
    /// `addsContentSHA256Header` option, whose header sorts among the others, it simply calls that method.
    public struct Prepared: Sendable {
        public let signer: SigV4Signer
        let method: String
        let path: String
        let query: String
        let headers: [(name: String, value: String)]
        /// `METHOD\nURI\nQUERY\n` and the header lines that sort before `x-amz-date`.
        let head: [UInt8]
        /// Header lines between `x-amz-date` and `x-amz-security-token`, and after it.
        let middle: [UInt8]
        let tail: [UInt8]
        /// The signed-header list without and with the session token.
        let names: [UInt8]
        let namesWithToken: [UInt8]
        let fast: Bool
    }

    /// Prepares the signing of requests of this shape (see ``Prepared``).
    public func prepare(
        method: String, path: String, query: String, headers: [(name: String, value: String)]
    ) -> Prepared {
        let sorted = Self.canonicalHeaders(signableHeaders(headers))
        let date = Self.dateName
        let token = Self.tokenName
        let before = sorted.filter { $0.name.lexicographicallyPrecedes(date) }
        let between = sorted.filter {
            date.lexicographicallyPrecedes($0.name) && $0.name.lexicographicallyPrecedes(token)
        }
        let after = sorted.filter { token.lexicographicallyPrecedes($0.name) }

        var head: [UInt8] = []
        appendRequestLines(method: method, path: path, query: query, to: &head)
        var middle: [UInt8] = []
        var tail: [UInt8] = []
        let beforeNames = Self.appendHeaderBlock(before, to: &head)
        let betweenNames = Self.appendHeaderBlock(between, to: &middle)
        let afterNames = Self.appendHeaderBlock(after, to: &tail)
        func join(_ parts: [[UInt8]]) -> [UInt8] {
            Array(parts.filter { !$0.isEmpty }.joined(separator: [UInt8(ascii: ";")]))
        }
        return Prepared(
            signer: self, method: method, path: path, query: query, headers: headers, head: head, middle: middle,
            tail: tail, names: join([beforeNames, date, betweenNames, afterNames]),
            namesWithToken: join([beforeNames, date, betweenNames, token, afterNames]),
            fast: !options.addsContentSHA256Header)
    }
}

extension SigV4Signer.Prepared {
    /// The headers to add (as ``SigV4Signer/sign(method:path:query:headers:body:credentials:date:)`` returns them)
    /// for a request of this shape with `body`, hashed once.
    public func sign(body: some ContiguousBytes, credentials: AWSCredentials, date: Date) -> [(
        name: String, value: String
    )] {
        sign(payloadHash: SigV4Signer.payloadHash(body), credentials: credentials, date: date)
    }

    /// The same, for a payload whose hash (lower-case hex SHA-256) is known.
    public func sign(payloadHash: String, credentials: AWSCredentials, date: Date) -> [(name: String, value: String)] {
        guard fast else {
            return signer.sign(
                method: method, path: path, query: query, headers: headers, payloadHash: payloadHash,
                credentials: credentials, date: date)
        }
        let amzDate = AmzDate(date)
        let (canonical, signedNames) = canonicalRequest(
            payloadHash: payloadHash, credentials: credentials, amzDate: amzDate)
        return signer.signedHeaders(
            canonical: canonical, signedNames: signedNames, payloadHash: payloadHash, credentials: credentials,
            amzDate: amzDate)
    }

    /// Appends the headers ``sign(body:credentials:date:)`` returns, as HTTP/1.1 header lines (`Name: value`, CRLF):
    /// the same names, values and order, without making a string of each. For callers that write the request's
    /// bytes themselves.
    public func appendSignedHeaderLines(
        body: some ContiguousBytes, credentials: AWSCredentials, date: Date, to out: inout [UInt8]
    ) {
        guard fast else {
            let payloadHash = SigV4Signer.payloadHash(body)
            for (name, value) in sign(payloadHash: payloadHash, credentials: credentials, date: date) {
                Self.appendLine(name.utf8, value.utf8, to: &out)
            }
            return
        }
        var bodyHash = SHA256()
        body.withUnsafeBytes { bodyHash.update(bufferPointer: $0) }
        let payloadDigest = bodyHash.finalize()
        let amzDate = AmzDate(date)
        // Hashed in one call (swift-crypto's `update(data:)` costs a generic walk per call).
        let (canonicalHash, signedNames) = ByteEncoding.withHex(of: payloadDigest) { payloadHex in
            withCanonicalRequest(payloadHash: payloadHex, credentials: credentials, amzDate: amzDate) {
                canonical, names in
                var hash = SHA256()
                hash.update(bufferPointer: canonical)
                return (hash.finalize(), names)
            }
        }
        Self.appendLine(SigV4Signer.dateHeader.utf8, amzDate.bytes, to: &out)
        if let token = credentials.sessionToken {
            Self.appendLine(SigV4Signer.tokenHeader.utf8, token.utf8, to: &out)
        }
        out.append(contentsOf: SigV4Signer.authorizationHeader.utf8)
        out.append(contentsOf: ": ".utf8)
        signer.appendAuthorization(
            canonicalHash: canonicalHash, signedNames: signedNames, credentials: credentials, amzDate: amzDate,
            to: &out)
        out.append(contentsOf: "\r\n".utf8)
    }

    private static func appendLine(
        _ name: some Collection<UInt8>, _ value: some Collection<UInt8>, to out: inout [UInt8]
    ) {
        out.append(contentsOf: name)
        out.append(contentsOf: ": ".utf8)
        out.append(contentsOf: value)
        out.append(contentsOf: "\r\n".utf8)
    }

    /// The canonical request of this shape for one payload, credentials and time, and its signed-header list.
    private func canonicalRequest(
        payloadHash: String, credentials: AWSCredentials, amzDate: AmzDate
    ) -> (canonical: [UInt8], signedNames: [UInt8]) {
        var hash = payloadHash
        return hash.withUTF8 { hex in
            withCanonicalRequest(payloadHash: UnsafeRawBufferPointer(hex), credentials: credentials, amzDate: amzDate) {
                (Array($0), $1)
            }
        }
    }

    /// Lays the canonical request out on the stack (the fixed parts of this shape around the date, the session
    /// token and the payload hash, given as hex) and calls `body` with it and its signed-header list.
    private func withCanonicalRequest<R>(
        payloadHash: UnsafeRawBufferPointer, credentials: AWSCredentials, amzDate: AmzDate,
        _ body: (UnsafeRawBufferPointer, _ signedNames: [UInt8]) -> R
    ) -> R {
        let token = signer.options.signsSessionToken ? credentials.sessionToken : nil
        let normalizedToken = token.map { SigV4Signer.normalizedValue($0.utf8) }
        let signedNames = token == nil ? names : namesWithToken
        let size =
            head.count + middle.count + tail.count + signedNames.count + payloadHash.count + 64
            + (normalizedToken.map { $0.count + SigV4Signer.tokenLinePrefix.count + 1 } ?? 0)
        return withUnsafeTemporaryAllocation(byteCount: size, alignment: 1) { buffer in
            var w = ByteScratch(buffer)
            w.append(head)
            w.append(SigV4Signer.dateLinePrefix)
            w.append(amzDate.bytes)
            w.append(UInt8(ascii: "\n"))
            w.append(middle)
            if let normalizedToken {
                w.append(SigV4Signer.tokenLinePrefix)
                w.append(normalizedToken)
                w.append(UInt8(ascii: "\n"))
            }
            w.append(tail)
            w.append(UInt8(ascii: "\n"))
            w.append(signedNames)
            w.append(UInt8(ascii: "\n"))
            w.append(raw: payloadHash)
            return body(w.written, signedNames)
        }
    }
}
