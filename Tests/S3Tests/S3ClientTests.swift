import AWSSigV4
import AsyncHTTPClient
import Foundation
import NIOCore
import S3
import TestSupport
import Testing

/// The S3 client against moto's server: every operation a streaming export uses, path-style and virtual-hosted.
// Serialized: each test starts its own moto server, a Python process that takes a few CPU-seconds to start;
// one at a time per suite leaves the other suites the CPU on a 2-core machine. The tests share nothing.
@Suite(.serialized, .enabled(if: MotoServer.isAvailable, "moto[server] is not installed (pip install 'moto[server]')"))
struct S3ClientTests {
    static func client(_ moto: MotoServer, addressing: S3Configuration.Addressing = .path, maxAttempts: Int = 3)
        -> S3Client
    {
        var configuration = S3Configuration(
            scheme: "http", host: addressing == .path ? "127.0.0.1" : "s3.localhost", port: moto.port,
            region: "us-east-1", addressing: addressing,
            retry: RetryPolicy(base: 0.01, cap: 0.05, maxAttempts: maxAttempts))
        if addressing == .virtualHosted { configuration.connectHost = "127.0.0.1" }
        return S3Client(
            configuration: configuration,
            credentials: StaticCredentialProvider(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret/with+chars"),
            httpClient: HTTPClient.shared)
    }

    @Test func multipartUploadListAbortAndComplete() async throws {
        let moto = try MotoServer()
        defer { moto.stop() }
        let s3 = Self.client(moto)
        try await s3.createBucket("exports")
        let key = "backfill 2024/interactions/interactions-00001.csv"
        let id = try await s3.createMultipartUpload(bucket: "exports", key: key, contentType: "text/csv")
        let part1 = [UInt8](repeating: UInt8(ascii: "a"), count: 5 << 20)
        let part2 = Array("tail,row\n".utf8)
        let e1 = try await s3.uploadPart(
            bucket: "exports", key: key, uploadId: id, partNumber: 1, body: ByteBuffer(bytes: part1))
        #expect(e1 == part1.withUnsafeBytes { S3Client.partETag($0) })
        let uploads = try await s3.listMultipartUploads(bucket: "exports", prefix: "backfill 2024/")
        #expect(uploads.map(\.uploadId) == [id])
        // Not visible under its name before completion.
        #expect(try await s3.headObject(bucket: "exports", key: key) == nil)
        let e2 = try await s3.uploadPart(
            bucket: "exports", key: key, uploadId: id, partNumber: 2, body: ByteBuffer(bytes: part2))
        let listed = try #require(try await s3.listParts(bucket: "exports", key: key, uploadId: id))
        #expect(
            listed == [
                S3Client.Part(number: 1, etag: e1, size: part1.count),
                S3Client.Part(number: 2, etag: e2, size: part2.count),
            ])
        _ = try await s3.completeMultipartUpload(bucket: "exports", key: key, uploadId: id, parts: listed)
        let body = try #require(try await s3.getObject(bucket: "exports", key: key))
        #expect(body == part1 + part2)
        #expect(try await s3.listParts(bucket: "exports", key: key, uploadId: id) == nil)
        #expect(try await s3.listObjects(bucket: "exports", prefix: "backfill 2024/").map(\.key) == [key])

        let other = try await s3.createMultipartUpload(
            bucket: "exports", key: "backfill 2024/x.csv", contentType: "text/csv")
        try await s3.abortMultipartUpload(bucket: "exports", key: "backfill 2024/x.csv", uploadId: other)
        #expect(try await s3.listMultipartUploads(bucket: "exports", prefix: "backfill 2024/").isEmpty)
        try await s3.deleteObject(bucket: "exports", key: key)
        #expect(try await s3.getObject(bucket: "exports", key: key) == nil)
    }

    @Test func virtualHostedAddressingSignsTheBucketHost() async throws {
        let moto = try MotoServer()
        defer { moto.stop() }
        let s3 = Self.client(moto, addressing: .virtualHosted)
        #expect(
            s3.configuration.address(bucket: "vh-bucket", key: "a/b.csv") == (
                "vh-bucket.s3.localhost:\(moto.port)", "/a/b.csv"
            ))
        try await s3.createBucket("vh-bucket")
        try await s3.putObject(bucket: "vh-bucket", key: "a/b.csv", body: Array("x\n".utf8), contentType: "text/csv")
        // Read back path-style: the same object.
        #expect(try await Self.client(moto).getObject(bucket: "vh-bucket", key: "a/b.csv") == Array("x\n".utf8))
    }

    @Test func serviceErrorsCarryTheCodeAndNoSecrets() async throws {
        let moto = try MotoServer()
        defer { moto.stop() }
        let s3 = Self.client(moto)
        do {
            _ = try await s3.createMultipartUpload(bucket: "no-such-bucket", key: "k", contentType: "text/csv")
            Issue.record("expected NoSuchBucket")
        } catch {
            #expect(error.serviceCode == "NoSuchBucket")
            #expect(!error.description.contains("secret/with+chars"))
            #expect(!error.isRetryable)
        }
    }

    @Test func transportFailuresAreRetriedThenReported() async throws {
        // A port nothing listens on: connection refused on every attempt.
        let moto = try MotoServer()
        let port = moto.port
        moto.stop()
        let configuration = S3Configuration(
            scheme: "http", host: "127.0.0.1", port: port, region: "us-east-1", addressing: .path,
            retry: RetryPolicy(base: 0.001, cap: 0.002, maxAttempts: 3), requestTimeoutSeconds: 1)
        let s3 = S3Client(
            configuration: configuration, credentials: StaticCredentialProvider(accessKeyId: "A", secretAccessKey: "B"),
            httpClient: HTTPClient.shared)
        await #expect(throws: S3Error.self) { try await s3.headObject(bucket: "b-b", key: "k") }
    }
}

@Suite struct S3ConfigurationTests {
    @Test func endpointResolutionAndAddressing() throws {
        let aws = try S3Configuration.resolve(configured: nil, region: "eu-west-1", environment: [:])
        #expect(
            aws.address(bucket: "my-bucket", key: "p/k.csv") == ("my-bucket.s3.eu-west-1.amazonaws.com", "/p/k.csv"))
        #expect(aws.address(bucket: "dotted.bucket", key: "k") == ("s3.eu-west-1.amazonaws.com", "/dotted.bucket/k"))
        let forced = try S3Configuration.resolve(
            configured: nil, region: "eu-west-1", environment: ["AWS_S3_FORCE_PATH_STYLE": "true"])
        #expect(forced.address(bucket: "my-bucket", key: "k") == ("s3.eu-west-1.amazonaws.com", "/my-bucket/k"))
        let s3Env = try S3Configuration.resolve(
            configured: nil, region: "us-east-1",
            environment: ["AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000", "AWS_ENDPOINT_URL": "http://other:1"])
        #expect(s3Env.address(bucket: "b-1", key: "k") == ("127.0.0.1:9000", "/b-1/k"))
        let general = try S3Configuration.resolve(
            configured: nil, region: "us-east-1", environment: ["AWS_ENDPOINT_URL": "https://minio.example:9443"])
        #expect(general.address(bucket: "b-1", key: "k") == ("b-1.minio.example:9443", "/k"))
        let ignored = try S3Configuration.resolve(
            configured: nil, region: "us-east-1",
            environment: [
                "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
            ])
        #expect(ignored.host == "s3.us-east-1.amazonaws.com")
        #expect(throws: S3Error.self) {
            try S3Configuration.resolve(configured: "ftp://x", region: "us-east-1", environment: [:])
        }
    }

    @Test func locations() throws {
        let l = try S3Location(url: "s3://my-bucket/backfill/2024")
        #expect(l.bucket == "my-bucket" && l.prefix == "backfill/2024/")
        #expect(try S3Location(url: "s3://my-bucket").prefix == "")
        #expect(throws: S3Error.self) { try S3Location(url: "s3://My_Bucket/x") }
        #expect(throws: S3Error.self) { try S3Location(url: "/tmp/x") }
    }

    @Test func xmlValuesAreDecoded() {
        let xml =
            "<R><Part><PartNumber>1</PartNumber><ETag>&quot;abc&quot;</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&#34;d&#x22;</ETag></Part><Prefix/></R>"
        #expect(S3XMLProbe.etags(xml) == ["\"abc\"", "\"d\""])
    }
}
