import AWSSigV4
import Foundation
import Testing

/// Personalize requests signed by botocore (Fixtures/make_botocore_vectors.py regenerates them).
@Suite("botocore vectors")
struct BotocoreVectorTests {
    struct File: Decodable {
        var vectors: [Vector]
    }

    struct Vector: Decodable, CustomTestStringConvertible {
        struct Credentials: Decodable {
            var accessKeyId: String
            var secretAccessKey: String
            var sessionToken: String?
        }

        struct Expected: Decodable {
            var payloadHash: String
            var canonicalRequest: String
            var stringToSign: String
            var signature: String
            var authorization: String
            var xAmzDate: String
            var xAmzSecurityToken: String?
        }

        var name: String
        var region: String
        var service: String
        var method: String
        var path: String
        var query: String
        var headers: [[String]]
        var body: String
        var credentials: Credentials
        var timestamp: String
        var epochSeconds: Int
        var expected: Expected

        var testDescription: String { name }
    }

    static var vectors: [Vector] {
        guard let data = try? Fixtures.data("botocore_vectors.json"),
            let file = try? JSONDecoder().decode(File.self, from: data)
        else { return [] }
        return file.vectors
    }

    @Test func allVectorsLoaded() {
        #expect(Self.vectors.count == 20)
    }

    @Test(arguments: vectors)
    func matchesBotocore(vector: Vector) throws {
        let signer = SigV4Signer(service: vector.service, region: vector.region)
        let credentials = AWSCredentials(
            accessKeyId: vector.credentials.accessKeyId, secretAccessKey: vector.credentials.secretAccessKey,
            sessionToken: vector.credentials.sessionToken
        )
        let date = Date(timeIntervalSince1970: TimeInterval(vector.epochSeconds))
        #expect(try Fixtures.date(iso8601: vector.timestamp) == date)
        let headers = vector.headers.map { (name: $0[0], value: $0[1]) }
        let body = Array(vector.body.utf8)

        let payloadHash = SigV4Signer.payloadHash(body)
        #expect(payloadHash == vector.expected.payloadHash)
        let canonical = signer.canonicalRequest(
            method: vector.method, path: vector.path, query: vector.query, headers: headers,
            payloadHash: payloadHash, credentials: credentials, date: date
        )
        #expect(canonical == vector.expected.canonicalRequest)
        let stringToSign = signer.stringToSign(canonicalRequest: canonical, date: date)
        #expect(stringToSign == vector.expected.stringToSign)
        #expect(
            signer.signature(stringToSign: stringToSign, credentials: credentials, date: date)
                == vector.expected.signature)

        let signed = signer.sign(
            method: vector.method, path: vector.path, query: vector.query, headers: headers,
            body: body, credentials: credentials, date: date
        )
        var expected: [(String, String)] = [("X-Amz-Date", vector.expected.xAmzDate)]
        if let token = vector.expected.xAmzSecurityToken { expected.append(("X-Amz-Security-Token", token)) }
        expected.append(("Authorization", vector.expected.authorization))
        #expect(signed.map(\.name) == expected.map(\.0))
        #expect(signed.map(\.value) == expected.map(\.1))
    }

    /// The same body as `Data` must sign identically (the body parameter is generic).
    @Test func dataAndByteArrayBodiesSignTheSame() throws {
        let vector = try #require(Self.vectors.first)
        let signer = SigV4Signer(service: vector.service, region: vector.region)
        let credentials = AWSCredentials(accessKeyId: "AKID", secretAccessKey: "SECRET")
        let date = Date(timeIntervalSince1970: TimeInterval(vector.epochSeconds))
        let headers = vector.headers.map { (name: $0[0], value: $0[1]) }
        let fromBytes = signer.sign(
            method: "POST", path: vector.path, query: "", headers: headers, body: Array(vector.body.utf8),
            credentials: credentials, date: date
        )
        let fromData = signer.sign(
            method: "POST", path: vector.path, query: "", headers: headers, body: Data(vector.body.utf8),
            credentials: credentials, date: date
        )
        #expect(fromBytes.map(\.value) == fromData.map(\.value))
    }
}
