import AWSSigV4
import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// The S3 operations a streaming export needs, signed with SigV4 for the `s3` signing name (payload hash in
/// `x-amz-content-sha256`, the path encoded once) and retried by ``RetryPolicy``.
///
/// Low request rates (one request per part), so async-http-client's pool serves; bodies are `ByteBuffer`s handed
/// over without a copy, and answers are read into memory only up to a cap.
public struct S3Client: Sendable {
    public struct Part: Sendable, Hashable, Codable {
        public var number: Int
        public var etag: String
        public var size: Int

        public init(number: Int, etag: String, size: Int) {
            self.number = number
            self.etag = etag
            self.size = size
        }
    }

    public struct Upload: Sendable, Hashable {
        public var key: String
        public var uploadId: String
    }

    public struct Object: Sendable, Hashable {
        public var key: String
        public var size: Int
        public var etag: String
    }

    public let configuration: S3Configuration
    let credentials: any CredentialProvider
    let httpClient: HTTPClient
    let signer: SigV4Signer

    /// Answers larger than this are refused (S3's listings are at most 1,000 entries, well under it).
    static let maxAnswerBytes = 64 << 20

    public init(configuration: S3Configuration, credentials: any CredentialProvider, httpClient: HTTPClient) {
        self.configuration = configuration
        self.credentials = credentials
        self.httpClient = httpClient
        signer = SigV4Signer(
            service: "s3", region: configuration.region,
            options: .init(normalizesPath: false, signsSessionToken: true, addsContentSHA256Header: true))
    }

    // MARK: Operations

    public func createBucket(_ bucket: String) async throws(S3Error) {
        _ = try await send("CreateBucket", "PUT", bucket: bucket, key: nil)
    }

    public func createMultipartUpload(bucket: String, key: String, contentType: String) async throws(S3Error) -> String
    {
        let answer = try await send(
            "CreateMultipartUpload", "POST", bucket: bucket, key: key, query: "uploads",
            headers: [("Content-Type", contentType)])
        guard let id = S3XML.value("UploadId", in: answer.text[...]), !id.isEmpty else {
            throw .response(operation: "CreateMultipartUpload", key: key, "no UploadId")
        }
        return id
    }

    /// Uploads one part; returns its ETag. `sha256` is the body's hex SHA-256 when already known.
    public func uploadPart(
        bucket: String, key: String, uploadId: String, partNumber: Int, body: ByteBuffer, sha256: String? = nil
    ) async throws(S3Error) -> String {
        let answer = try await send(
            "UploadPart", "PUT", bucket: bucket, key: key,
            query: "partNumber=\(partNumber)&uploadId=\(Self.encodeQueryValue(uploadId))", body: body,
            payloadHash: sha256)
        guard let etag = answer.headers.first(name: "etag") else {
            throw .response(operation: "UploadPart", key: key, "no ETag header")
        }
        return etag
    }

    /// Completes an upload from `parts` (ascending numbers); returns the object's ETag. The object appears under
    /// its key only now, whole.
    public func completeMultipartUpload(bucket: String, key: String, uploadId: String, parts: [Part])
        async throws(S3Error) -> String
    {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for p in parts {
            xml += "<Part><PartNumber>\(p.number)</PartNumber><ETag>\(S3XML.escape(p.etag))</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let answer = try await send(
            "CompleteMultipartUpload", "POST", bucket: bucket, key: key,
            query: "uploadId=\(Self.encodeQueryValue(uploadId))", headers: [("Content-Type", "application/xml")],
            body: ByteBuffer(string: xml))
        // S3 can answer 200 with an error document once the body has started.
        if let code = S3XML.value("Code", in: answer.text[...]), answer.text.contains("<Error>") {
            throw .service(
                operation: "CompleteMultipartUpload", status: 200, code: code,
                message: S3XML.value("Message", in: answer.text[...]) ?? "", key: key)
        }
        return S3XML.value("ETag", in: answer.text[...]) ?? ""
    }

    public func abortMultipartUpload(bucket: String, key: String, uploadId: String) async throws(S3Error) {
        do {
            _ = try await send(
                "AbortMultipartUpload", "DELETE", bucket: bucket, key: key,
                query: "uploadId=\(Self.encodeQueryValue(uploadId))")
        } catch  where error.serviceCode == "NoSuchUpload" {
            return
        }
    }

    /// The parts uploaded so far, or `nil` when the upload no longer exists (completed or aborted).
    public func listParts(bucket: String, key: String, uploadId: String) async throws(S3Error) -> [Part]? {
        var parts: [Part] = []
        var marker: String?
        while true {
            var query = "uploadId=\(Self.encodeQueryValue(uploadId))"
            if let marker { query = "part-number-marker=\(marker)&" + query }
            let answer: Answer
            do {
                answer = try await send("ListParts", "GET", bucket: bucket, key: key, query: query)
            } catch  where error.serviceCode == "NoSuchUpload" {
                return nil
            }
            let text = answer.text[...]
            for element in S3XML.elements("Part", in: text) {
                guard let n = S3XML.value("PartNumber", in: element).flatMap(Int.init),
                    let etag = S3XML.value("ETag", in: element)
                else { continue }
                parts.append(Part(number: n, etag: etag, size: S3XML.value("Size", in: element).flatMap(Int.init) ?? 0))
            }
            guard S3XML.value("IsTruncated", in: text) == "true",
                let next = S3XML.value("NextPartNumberMarker", in: text), next != marker
            else { break }
            marker = next
        }
        return parts
    }

    /// Incomplete multipart uploads whose keys start with `prefix`.
    public func listMultipartUploads(bucket: String, prefix: String) async throws(S3Error) -> [Upload] {
        var uploads: [Upload] = []
        var keyMarker: String?
        var idMarker: String?
        while true {
            var query = "prefix=\(Self.encodeQueryValue(prefix))&uploads"
            if let keyMarker { query += "&key-marker=\(Self.encodeQueryValue(keyMarker))" }
            if let idMarker { query += "&upload-id-marker=\(Self.encodeQueryValue(idMarker))" }
            let text = try await send("ListMultipartUploads", "GET", bucket: bucket, key: nil, query: query).text[...]
            for element in S3XML.elements("Upload", in: text) {
                if let key = S3XML.value("Key", in: element), let id = S3XML.value("UploadId", in: element) {
                    uploads.append(Upload(key: key, uploadId: id))
                }
            }
            guard S3XML.value("IsTruncated", in: text) == "true" else { break }
            keyMarker = S3XML.value("NextKeyMarker", in: text)
            idMarker = S3XML.value("NextUploadIdMarker", in: text)
            if keyMarker == nil { break }
        }
        return uploads
    }

    /// Objects whose keys start with `prefix` (ListObjectsV2, every page).
    public func listObjects(bucket: String, prefix: String) async throws(S3Error) -> [Object] {
        var objects: [Object] = []
        var token: String?
        while true {
            var query = "list-type=2&prefix=\(Self.encodeQueryValue(prefix))"
            if let token { query += "&continuation-token=\(Self.encodeQueryValue(token))" }
            let text = try await send("ListObjectsV2", "GET", bucket: bucket, key: nil, query: query).text[...]
            for element in S3XML.elements("Contents", in: text) {
                if let key = S3XML.value("Key", in: element) {
                    objects.append(
                        Object(
                            key: key, size: S3XML.value("Size", in: element).flatMap(Int.init) ?? 0,
                            etag: S3XML.value("ETag", in: element) ?? ""))
                }
            }
            guard S3XML.value("IsTruncated", in: text) == "true",
                let next = S3XML.value("NextContinuationToken", in: text)
            else { break }
            token = next
        }
        return objects
    }

    /// Writes a small object in one request (the manifest); returns its ETag.
    @discardableResult
    public func putObject(bucket: String, key: String, body: [UInt8], contentType: String) async throws(S3Error)
        -> String
    {
        let answer = try await send(
            "PutObject", "PUT", bucket: bucket, key: key, headers: [("Content-Type", contentType)],
            body: ByteBuffer(bytes: body))
        return answer.headers.first(name: "etag") ?? ""
    }

    public func deleteObject(bucket: String, key: String) async throws(S3Error) {
        _ = try await send("DeleteObject", "DELETE", bucket: bucket, key: key)
    }

    /// The object's bytes (up to 64 MiB), or `nil` when there is no such key.
    public func getObject(bucket: String, key: String) async throws(S3Error) -> [UInt8]? {
        do {
            return try await send("GetObject", "GET", bucket: bucket, key: key).body
        } catch  where error.status == 404 {
            return nil
        }
    }

    /// The object's size and ETag, or `nil` when there is no such key.
    public func headObject(bucket: String, key: String) async throws(S3Error) -> Object? {
        do {
            let answer = try await send("HeadObject", "HEAD", bucket: bucket, key: key)
            return Object(
                key: key, size: answer.headers.first(name: "content-length").flatMap(Int.init) ?? 0,
                etag: answer.headers.first(name: "etag") ?? "")
        } catch  where error.status == 404 {
            return nil
        }
    }

    // MARK: Wire

    struct Answer: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Sends one request, retrying what ``S3Error/isRetryable`` allows within the retry rules.
    func send(
        _ operation: String, _ method: String, bucket: String, key: String?, query: String = "",
        headers: [(String, String)] = [], body: ByteBuffer? = nil, payloadHash: String? = nil
    ) async throws(S3Error) -> Answer {
        let hash =
            payloadHash ?? body.map { b in b.withUnsafeReadableBytes { SigV4Signer.payloadHash($0) } }
            ?? SigV4Signer.payloadHash([UInt8]())
        let started = ContinuousClock.now
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await attemptOnce(
                    operation, method, bucket: bucket, key: key, query: query, headers: headers, body: body,
                    payloadHash: hash)
            } catch {
                let elapsed = ContinuousClock.now - started
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                guard error.isRetryable, configuration.retry.allowsRetry(afterAttempt: attempt, elapsed: seconds) else {
                    throw error
                }
                if error.isExpiredCredentials { await credentials.invalidate() }
                let delay = configuration.retry.delay(afterAttempt: attempt, random: Double.random(in: 0..<1))
                try? await Task.sleep(for: .seconds(delay))
            }
        }
    }

    private func attemptOnce(
        _ operation: String, _ method: String, bucket: String, key: String?, query: String, headers: [(String, String)],
        body: ByteBuffer?, payloadHash: String
    ) async throws(S3Error) -> Answer {
        let label = key.map { "s3://\(bucket)/\($0)" } ?? "s3://\(bucket)"
        let creds: AWSCredentials
        do { creds = try await credentials.credentials() } catch {
            throw .configuration("\(operation) \(label): no AWS credentials (\(error))")
        }
        let (host, path) = configuration.address(bucket: bucket, key: key)
        var signed: [(name: String, value: String)] = [("host", host)]
        for h in headers { signed.append((h.0, h.1)) }
        let auth = signer.sign(
            method: method, path: path, query: query, headers: signed, payloadHash: payloadHash, credentials: creds,
            date: Date())
        let connect = configuration.connectHost.map { h in configuration.port.map { "\(h):\($0)" } ?? h } ?? host
        var url = "\(configuration.scheme)://\(connect)\(Self.encodePath(path))"
        if !query.isEmpty { url += "?" + query }
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "Host", value: host)
        request.headers.add(name: "User-Agent", value: configuration.userAgent)
        for h in headers { request.headers.add(name: h.0, value: h.1) }
        for h in auth { request.headers.add(name: h.name, value: h.value) }
        if let body {
            request.body = .bytes(body)
        } else if method == "PUT" || method == "POST" {
            request.headers.add(name: "Content-Length", value: "0")
        }
        let answer: Answer
        do {
            let timeout = TimeAmount.milliseconds(Int64(configuration.requestTimeoutSeconds * 1000))
            let response = try await httpClient.execute(request, timeout: timeout)
            let collected =
                method == "HEAD"
                ? ByteBuffer() : try await response.body.collect(upTo: Self.maxAnswerBytes)
            answer = Answer(
                status: Int(response.status.code), headers: response.headers,
                body: Array(collected.readableBytesView))
        } catch {
            throw .transport(operation: operation, key: label, "\(error)")
        }
        guard (200..<300).contains(answer.status) else {
            let text = answer.text[...]
            throw .service(
                operation: operation, status: answer.status,
                code: S3XML.value("Code", in: text) ?? (answer.status == 404 ? "NotFound" : "HTTP\(answer.status)"),
                message: S3XML.value("Message", in: text) ?? "", key: label)
        }
        return answer
    }

    /// The path as sent: every byte but the unreserved ones and `/` percent-encoded (S3 signs this once-encoded form).
    static func encodePath(_ path: String) -> String {
        var out = ""
        for b in path.utf8 {
            if isUnreserved(b) || b == UInt8(ascii: "/") {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out += "%" + String(b, radix: 16, uppercase: true).leftPad2
            }
        }
        return out
    }

    static func encodeQueryValue(_ value: String) -> String {
        var out = ""
        for b in value.utf8 {
            if isUnreserved(b) {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out += "%" + String(b, radix: 16, uppercase: true).leftPad2
            }
        }
        return out
    }

    private static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
            || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "~")
    }

    /// The hex MD5 of `bytes` wrapped in quotes: the ETag S3 gives a part uploaded without SSE-KMS.
    public static func partETag(_ bytes: UnsafeRawBufferPointer) -> String {
        "\"" + Insecure.MD5.hash(data: bytes).map { String($0, radix: 16).leftPad2 }.joined() + "\""
    }
}

extension String {
    fileprivate var leftPad2: String { count >= 2 ? self : "0" + self }
}
