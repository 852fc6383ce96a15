import AWSSigV4
import Foundation
import Testing

/// AWS's own SigV4 test suite (`aws-c-auth/tests/aws-signing-test-suite/v4`), header signing.
/// Every case of the suite's v4 folder is run; see Fixtures/aws-signing-test-suite/README.md.
@Suite("AWS signing test suite (v4, header signing)")
struct AWSSigningTestSuiteTests {
    static let suiteFolder = "aws-signing-test-suite/v4"

    static var caseNames: [String] {
        let folder = Fixtures.root.appendingPathComponent(suiteFolder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }.sorted()
    }

    @Test func suiteIsComplete() {
        #expect(Self.caseNames.count == 38)
    }

    @Test(arguments: caseNames)
    func signsLikeAWS(caseName: String) throws {
        let folder = "\(Self.suiteFolder)/\(caseName)"
        let context = try JSONDecoder().decode(SuiteContext.self, from: try Fixtures.data("\(folder)/context.json"))
        let request = try SuiteRequest(parsing: try Fixtures.text("\(folder)/request.txt"))
        let expectedCanonical = try Fixtures.text("\(folder)/header-canonical-request.txt")
        let expectedStringToSign = try Fixtures.text("\(folder)/header-string-to-sign.txt")
        let expectedSignature = try Fixtures.text("\(folder)/header-signature.txt")

        let date = try Fixtures.date(iso8601: context.timestamp)
        let credentials = AWSCredentials(
            accessKeyId: context.credentials.accessKeyId, secretAccessKey: context.credentials.secretAccessKey,
            sessionToken: context.credentials.token
        )
        let signer = SigV4Signer(
            service: context.service, region: context.region,
            options: .init(
                normalizesPath: context.normalize, signsSessionToken: !(context.omitSessionToken ?? false),
                addsContentSHA256Header: context.signBody
            )
        )
        let payloadHash = SigV4Signer.payloadHash(request.body)
        let canonical = signer.canonicalRequest(
            method: request.method, path: request.path, query: request.query, headers: request.headers,
            payloadHash: payloadHash, credentials: credentials, date: date
        )
        #expect(canonical == expectedCanonical)
        let stringToSign = signer.stringToSign(canonicalRequest: canonical, date: date)
        #expect(stringToSign == expectedStringToSign)
        #expect(signer.signature(stringToSign: stringToSign, credentials: credentials, date: date) == expectedSignature)

        let headers = signer.sign(
            method: request.method, path: request.path, query: request.query, headers: request.headers,
            body: request.body, credentials: credentials, date: date
        )
        let authorization = try #require(headers.first { $0.name == "Authorization" }?.value)
        #expect(authorization.hasSuffix("Signature=\(expectedSignature)"))
        #expect(headers.contains { $0.name == "X-Amz-Date" && $0.value == "20150830T123600Z" })
        #expect(headers.contains { $0.name == "X-Amz-Security-Token" } == (context.credentials.token != nil))
    }
}
