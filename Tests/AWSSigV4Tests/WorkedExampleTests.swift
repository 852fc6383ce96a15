import AWSSigV4
import Foundation
import Testing

/// The botocore-produced worked example of the project's Personalize reference (section 6), copied
/// here so tests do not depend on files outside the package.
@Suite("worked PutEvents example")
struct WorkedExampleTests {
    static let body =
        #"{"trackingId":"11111111-2222-3333-4444-555555555555","userId":"user-1","sessionId":"sess-1","eventList":[{"eventId":"e1","eventType":"click","itemId":"item-42","sentAt":1705322096,"properties":"{\"numberOfRatings\":\"12\"}"}]}"#
    static let date = Date(timeIntervalSince1970: 1_705_322_100)  // 2024-01-15T12:35:00Z
    static let headers: [(name: String, value: String)] = [
        ("Content-Type", "application/json"), ("Host", "personalize-events.us-east-1.amazonaws.com"),
    ]
    static let signer = SigV4Signer(service: "personalize", region: "us-east-1")

    static func credentials(token: String? = nil) -> AWSCredentials {
        AWSCredentials(
            accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: token
        )
    }

    @Test func payloadHash() {
        #expect(
            SigV4Signer.payloadHash(Array(Self.body.utf8))
                == "e7a79382c5b194ff0ae0b2b28b6a09bd53868febf848796828ae00ee8530d668"
        )
    }

    @Test func withoutSessionToken() throws {
        let canonical = Self.signer.canonicalRequest(
            method: "POST", path: "/events", query: "", headers: Self.headers,
            payloadHash: SigV4Signer.payloadHash(Array(Self.body.utf8)), credentials: Self.credentials(),
            date: Self.date
        )
        let stringToSign = Self.signer.stringToSign(canonicalRequest: canonical, date: Self.date)
        #expect(
            stringToSign == """
                AWS4-HMAC-SHA256
                20240115T123500Z
                20240115/us-east-1/personalize/aws4_request
                c7f6bc172921d4a38e6150f0d6717e8a82f053d2f90b8e70b7a17a53ccbdd87b
                """
        )
        let headers = Self.signer.sign(
            method: "POST", path: "/events", query: "", headers: Self.headers, body: Array(Self.body.utf8),
            credentials: Self.credentials(), date: Self.date
        )
        #expect(headers.map(\.name) == ["X-Amz-Date", "Authorization"])
        #expect(headers[0].value == "20240115T123500Z")
        #expect(
            headers[1].value
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240115/us-east-1/personalize/aws4_request, "
                + "SignedHeaders=content-type;host;x-amz-date, "
                + "Signature=f30338a68eed4ee2643b53f9a021589a435c787adeb2a8b524445bfb356bf01b"
        )
    }

    @Test func withSessionToken() {
        let headers = Self.signer.sign(
            method: "POST", path: "/events", query: "", headers: Self.headers, body: Array(Self.body.utf8),
            credentials: Self.credentials(token: "EXAMPLESESSIONTOKEN"), date: Self.date
        )
        #expect(headers.map(\.name) == ["X-Amz-Date", "X-Amz-Security-Token", "Authorization"])
        #expect(headers[1].value == "EXAMPLESESSIONTOKEN")
        #expect(headers[2].value.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,"))
        #expect(
            headers[2].value.hasSuffix("Signature=9230f68c2c54561a96ac1dd636a068f16d4bff462af043c7f1bf941f8a6de097"))
    }
}
